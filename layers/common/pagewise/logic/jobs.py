"""Jobs as the API sees them: creating one for an upload, and reading its state."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pagewise.data.jobs import JobRepository, new_job_id
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore, PresignedUpload
from pagewise.data.workflow import ExecutionView, Workflow
from pagewise.models import Job, JobStatus

ACCEPTED_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/tiff": "tiff",
}
_UNSAFE = re.compile(r"[^\w.\- ]+")
MAX_NAME_LENGTH = 200


class InvalidRequest(ValueError):
    """A request the caller must fix (the API answers 422)."""


def safe_file_name(name: str) -> str:
    """A file name fit for an S3 key: no directories, no control characters, no traversal."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    return base[-MAX_NAME_LENGTH:] or "document"


@dataclass(frozen=True)
class NewJobRequest:
    file_name: str
    content_type: str
    file_size: int
    client_name: str | None = None
    report_id: str | None = None
    source_language: str | None = None


@dataclass(frozen=True)
class CreatedJob:
    job: Job
    upload: PresignedUpload
    expires_at: datetime
    max_bytes: int


@dataclass
class JobService:
    jobs: JobRepository
    results: ResultRepository
    store: DocumentStore
    workflow: Workflow
    upload_max_bytes: int
    upload_expiry_seconds: int
    download_expiry_seconds: int

    def create(self, tenant: str, request: NewJobRequest) -> CreatedJob:
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type not in ACCEPTED_CONTENT_TYPES:
            raise InvalidRequest(
                f"content_type {request.content_type!r} is not accepted; send one of "
                + ", ".join(sorted(ACCEPTED_CONTENT_TYPES))
            )
        if not 0 < request.file_size <= self.upload_max_bytes:
            raise InvalidRequest(f"file_size must be between 1 and {self.upload_max_bytes} bytes")
        job_id = new_job_id()
        key = f"uploads/{tenant}/{job_id}/{safe_file_name(request.file_name)}"
        now = datetime.now(UTC)
        job = Job(
            job_id=job_id,
            tenant=tenant,
            client_name=request.client_name,
            report_id=request.report_id,
            file_name=request.file_name,
            content_type=content_type,
            file_size=request.file_size,
            upload_key=key,
            source_language=request.source_language,
            processing_status=JobStatus.AWAITING_UPLOAD,
            created_at=now,
            updated_at=now,
            status_history=[{"status": JobStatus.AWAITING_UPLOAD, "at": now}],  # type: ignore[list-item]
        )
        self.jobs.insert(job)
        upload = self.store.presigned_upload(
            key, content_type, self.upload_max_bytes, self.upload_expiry_seconds
        )
        return CreatedJob(
            job=job,
            upload=upload,
            expires_at=now + timedelta(seconds=self.upload_expiry_seconds),
            max_bytes=self.upload_max_bytes,
        )

    def get(self, tenant: str, job_id: str) -> Job | None:
        return self.jobs.get_for_tenant(job_id, tenant)

    def list(self, tenant: str, limit: int, before: datetime | None) -> list[Job]:
        return self.jobs.list_for_tenant(tenant, limit, before)

    def execution(self, job: Job) -> ExecutionView | None:
        if job.processing_status == JobStatus.AWAITING_UPLOAD:
            return None
        return self.workflow.describe(job.execution_arn or self.workflow.execution_arn(job.job_id))

    def download_url(self, job: Job) -> str | None:
        if job.processing_status != JobStatus.COMPLETED or not job.output_pdf_path:
            return None
        stem = job.file_name.rsplit(".", 1)[0] or "document"
        return self.store.presigned_download(
            job.output_pdf_path, f"{stem}_translated.pdf", self.download_expiry_seconds
        )

    def result(self, job: Job) -> dict[str, Any] | None:
        return self.results.get(job.job_id)
