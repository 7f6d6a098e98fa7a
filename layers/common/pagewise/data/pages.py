"""``page_results``: one document per (job, page), so parallel pages never contend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database

from pagewise.models import PageResult


class PageRepository:
    def __init__(self, db: Database) -> None:
        self._collection = db.page_results

    def save(
        self, job_id: str, page: int, expires_at: datetime | None = None, **fields: Any
    ) -> None:
        """Upsert fields of one page; repeating it (a retried state) changes nothing more.

        ``expires_at`` is the job's: the page goes with it (TTL index, RetentionDays).
        """
        on_insert: dict[str, Any] = {"job_id": job_id, "page": page}
        if expires_at is not None:
            on_insert["expires_at"] = expires_at
        self._collection.update_one(
            {"job_id": job_id, "page": page},
            {"$set": fields, "$setOnInsert": on_insert},
            upsert=True,
        )

    def get(self, job_id: str, page: int) -> PageResult | None:
        document = self._collection.find_one({"job_id": job_id, "page": page}, {"_id": 0})
        return PageResult.model_validate(document) if document else None

    def count_with(self, job_id: str, field: str) -> int:
        """Pages of the job on which ``field`` is set (the OCR or translation done)."""
        return self._collection.count_documents({"job_id": job_id, field: {"$ne": None}})

    def all_for_job(self, job_id: str) -> list[PageResult]:
        cursor = self._collection.find({"job_id": job_id}, {"_id": 0}).sort("page", 1)
        return [PageResult.model_validate(document) for document in cursor]

    def slice_for_job(self, job_id: str, page_from: int, limit: int) -> list[dict[str, Any]]:
        """At most ``limit`` pages of the job from ``page_from`` on, in page order (without
        the job id): one slice of ``/result``."""
        cursor = (
            self._collection.find(
                {"job_id": job_id, "page": {"$gte": page_from}}, {"_id": 0, "job_id": 0}
            )
            .sort("page", 1)
            .limit(limit)
        )
        return [dict(document) for document in cursor]

    def delete_for_job(self, job_id: str) -> None:
        self._collection.delete_many({"job_id": job_id})
