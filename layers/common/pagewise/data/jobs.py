"""``original_files``: one document per job, moved forward only by compare-and-set."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database

from pagewise.models import STATUS_ORDER, TERMINAL_STATUSES, Job, JobStatus, statuses_before

LOG = logging.getLogger(__name__)


def new_job_id() -> str:
    return str(ObjectId())


def _object_id(job_id: str) -> ObjectId | None:
    try:
        return ObjectId(job_id)
    except (InvalidId, TypeError):
        return None


def _to_job(document: dict[str, Any]) -> Job:
    document = dict(document)
    document["job_id"] = str(document.pop("_id"))
    return Job.model_validate(document)


def _now() -> datetime:
    return datetime.now(UTC)


class JobRepository:
    def __init__(self, db: Database, on_final: Callable[[Job], None] | None = None) -> None:
        self._collection = db.original_files
        # Called once per job, by whichever writer's compare-and-set made it completed or
        # failed (ingest, the API, any pipeline state): the notifications queue.
        self._on_final = on_final

    def _became_final(self, job: Job) -> None:
        if self._on_final is None:
            return
        try:
            self._on_final(job)
        except Exception:
            # The status is written and stays: a notification must never fail the job.
            LOG.exception(
                "job %s is %s; its notification was not queued", job.job_id, job.processing_status
            )

    def insert(self, job: Job) -> None:
        document = job.model_dump(exclude={"job_id"})
        document["_id"] = ObjectId(job.job_id)
        self._collection.insert_one(document)

    def get(self, job_id: str) -> Job | None:
        oid = _object_id(job_id)
        if oid is None:
            return None
        document = self._collection.find_one({"_id": oid})
        return _to_job(document) if document else None

    def get_for_tenant(self, job_id: str, tenant: str) -> Job | None:
        """The job if it belongs to ``tenant``; another tenant's job is simply not found."""
        oid = _object_id(job_id)
        if oid is None:
            return None
        document = self._collection.find_one({"_id": oid, "tenant": tenant})
        return _to_job(document) if document else None

    def list_for_tenant(
        self, tenant: str, limit: int, after: tuple[datetime, str] | None
    ) -> list[Job]:
        """Newest first, ordered by (created_at, _id): jobs created in the same millisecond
        have one order, so a page that ends among them resumes exactly after the last one
        (``after``: that job's created_at and id; the index of ensure_indexes serves it)."""
        query: dict[str, Any] = {"tenant": tenant}
        if after is not None:
            moment, job_id = after
            oid = _object_id(job_id)
            if oid is None:
                return []
            query["$or"] = [
                {"created_at": {"$lt": moment}},
                {"created_at": moment, "_id": {"$lt": oid}},
            ]
        cursor = self._collection.find(query).sort([("created_at", -1), ("_id", -1)]).limit(limit)
        return [_to_job(document) for document in cursor]

    def count_active(self, tenant: str, awaiting_since: datetime, limit: int) -> int:
        """The tenant's jobs not yet final, counted up to ``limit``: those at work, and those
        awaiting their upload since ``awaiting_since`` (older ones' upload links expired: they
        fail as upload_expired when next read). Served by the (tenant, processing_status,
        created_at) index of ensure_indexes."""
        at_work = [status for status in STATUS_ORDER if status not in TERMINAL_STATUSES]
        at_work.remove(JobStatus.AWAITING_UPLOAD)
        query = {
            "tenant": tenant,
            "$or": [
                {"processing_status": {"$in": at_work}},
                {
                    "processing_status": JobStatus.AWAITING_UPLOAD,
                    "created_at": {"$gte": awaiting_since},
                },
            ],
        }
        return self._collection.count_documents(query, limit=limit)

    def advance(self, job_id: str, to: JobStatus, **fields: Any) -> Job | None:
        """Move the job forward to ``to`` if it is at an earlier status (compare-and-set).

        Returns the updated job, or None when the job is already at or past ``to`` (a
        duplicate or late writer), failed, or missing: never moves a job backwards.
        """
        now = _now()
        document = self._collection.find_one_and_update(
            {"_id": ObjectId(job_id), "processing_status": {"$in": statuses_before(to)}},
            {
                "$set": {"processing_status": to, "updated_at": now, **fields},
                "$push": {"status_history": {"status": to, "at": now}},
            },
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            return None
        job = _to_job(document)
        if to in TERMINAL_STATUSES:
            self._became_final(job)
        return job

    def update_fields(self, job_id: str, **fields: Any) -> None:
        """Set fields that are not the status (counts, pointers) while the job is not terminal."""
        self._collection.update_one(
            {"_id": ObjectId(job_id), "processing_status": {"$nin": list(TERMINAL_STATUSES)}},
            {"$set": {"updated_at": _now(), **fields}},
        )

    def set_once(self, job_id: str, field: str, value: Any) -> bool:
        """Set ``field`` unless a value is there already (parallel writers: the first wins)."""
        result = self._collection.update_one(
            {"_id": ObjectId(job_id), field: None}, {"$set": {field: value}}
        )
        return result.modified_count == 1

    def raise_counter(self, job_id: str, field: str, value: int) -> Job | None:
        """Raise a progress counter to ``value``; it never goes down (``$max``)."""
        document = self._collection.find_one_and_update(
            {"_id": ObjectId(job_id)},
            {"$max": {field: value}, "$set": {"updated_at": _now()}},
            return_document=ReturnDocument.AFTER,
        )
        return _to_job(document) if document else None

    def delete(self, job_id: str, tenant: str) -> bool:
        oid = _object_id(job_id)
        if oid is None:
            return False
        return self._collection.delete_one({"_id": oid, "tenant": tenant}).deleted_count == 1

    def ping(self) -> None:
        self._collection.database.command("ping")

    def fail(
        self,
        job_id: str,
        error_code: str,
        error_message: str,
        only_from: JobStatus | None = None,
    ) -> Job | None:
        """Mark a job failed from any status but a terminal one (or only from ``only_from``)."""
        now = _now()
        status: object = only_from if only_from is not None else {"$nin": list(TERMINAL_STATUSES)}
        document = self._collection.find_one_and_update(
            {"_id": ObjectId(job_id), "processing_status": status},
            {
                "$set": {
                    "processing_status": JobStatus.FAILED,
                    "error_code": error_code,
                    "error_message": error_message,
                    "updated_at": now,
                    "completed_at": now,
                },
                "$push": {"status_history": {"status": JobStatus.FAILED, "at": now}},
            },
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            return None
        job = _to_job(document)
        self._became_final(job)
        return job

    # -- the notify function's record of what it delivered ---------------------------------

    def mark_email_sent(self, job_id: str, at: datetime) -> bool:
        """Record the email once; False when another delivery recorded it first."""
        return self.set_once(job_id, "notifications.email_sent_at", at)

    def record_webhook_attempt(
        self, job_id: str, status: str, delivered: bool, gave_up: bool, at: datetime
    ) -> None:
        fields: dict[str, Any] = {"notifications.webhook_last_status": status}
        if delivered:
            fields["notifications.webhook_delivered_at"] = at
        if gave_up:
            fields["notifications.webhook_gave_up_at"] = at
        self._collection.update_one(
            {"_id": ObjectId(job_id)},
            {"$set": fields, "$inc": {"notifications.webhook_attempts": 1}},
        )

    def claim_failure_report(self, job_id: str) -> bool:
        """True once per failed job, to the first caller: a failure reaches MarkFailed more
        than once (a page's Catch, the Map's Catch, the EventBridge rule), but is counted once.
        """
        oid = _object_id(job_id)
        if oid is None:
            return False
        result = self._collection.update_one(
            {
                "_id": oid,
                "processing_status": JobStatus.FAILED,
                "failure_reported": {"$ne": True},
            },
            {"$set": {"failure_reported": True}},
        )
        return result.modified_count == 1
