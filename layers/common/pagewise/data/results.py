"""``ai_extracted_content``: one document per finished job (the summary, the LLM usage, the
page results by reference); the report text beside it in S3 under ``work/{job_id}/``."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from pagewise.data.storage import work_prefix
from pagewise.models import JobResult


def report_key(job_id: str) -> str:
    """The S3 key of a job's report text (the translated PDF's body as plain text)."""
    return f"{work_prefix(job_id)}report.txt"


class ResultRepository:
    def __init__(self, db: Database) -> None:
        self._collection = db.ai_extracted_content

    def save(self, document_id: str, result: JobResult) -> None:
        self._collection.replace_one(
            {"document_id": document_id},
            {"document_id": document_id, **result.model_dump()},
            upsert=True,
        )

    def get(self, document_id: str) -> dict[str, Any] | None:
        """The stored document as it is (the API answers it without the tenant)."""
        document = self._collection.find_one({"document_id": document_id}, {"_id": 0})
        return dict(document) if document else None

    def delete(self, document_id: str) -> None:
        self._collection.delete_one({"document_id": document_id})
