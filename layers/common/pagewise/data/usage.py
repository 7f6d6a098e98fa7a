"""What a tenant's jobs used, from ``original_files`` (the (tenant, created_at) index)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database


class UsageRepository:
    def __init__(self, db: Database) -> None:
        self._collection = db.original_files

    def jobs_between(self, tenant: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Each of the tenant's jobs created in [start, end): its status, pages and usage."""
        cursor = self._collection.find(
            {"tenant": tenant, "created_at": {"$gte": start, "$lt": end}},
            {"_id": 0, "processing_status": 1, "total_pages": 1, "usage": 1},
        )
        return [dict(document) for document in cursor]
