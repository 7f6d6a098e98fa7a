"""``glossaries``: one document per (tenant, name), unique; every query names the tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from pagewise.documents.glossary import Glossary


class StoredGlossary(Glossary):
    tenant: str
    created_at: datetime
    updated_at: datetime
    # Rises by one on every PUT: a job records the version it snapshotted.
    version: int = 1


class GlossaryRepository:
    def __init__(self, db: Database) -> None:
        self._collection = db.glossaries

    def put(self, tenant: str, glossary: Glossary) -> tuple[StoredGlossary, bool]:
        """Create or replace ``glossary`` for ``tenant``; (stored, created)."""
        now = datetime.now(UTC)
        fields = glossary.model_dump()
        document = self._collection.find_one_and_update(
            {"tenant": tenant, "name": glossary.name},
            {
                "$set": {**fields, "entry_count": len(glossary.entries), "updated_at": now},
                "$inc": {"version": 1},
                "$setOnInsert": {"tenant": tenant, "created_at": now},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
            projection={"_id": 0, "entry_count": 0},
        )
        stored = StoredGlossary.model_validate(document)
        return stored, stored.version == 1

    def get(self, tenant: str, name: str) -> StoredGlossary | None:
        document = self._collection.find_one(
            {"tenant": tenant, "name": name}, {"_id": 0, "entry_count": 0}
        )
        return StoredGlossary.model_validate(document) if document else None

    def list(self, tenant: str) -> list[dict[str, Any]]:
        """Name, languages, entry count and dates of each of the tenant's glossaries."""
        cursor = self._collection.find(
            {"tenant": tenant},
            {"_id": 0, "entries": 0, "tenant": 0},
        ).sort("name", 1)
        return [dict(document) for document in cursor]

    def delete(self, tenant: str, name: str) -> bool:
        return self._collection.delete_one({"tenant": tenant, "name": name}).deleted_count == 1
