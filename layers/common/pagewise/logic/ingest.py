"""Ingest: an uploaded object becomes a queued job with a running execution."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pagewise.data.jobs import JobRepository
from pagewise.data.storage import DocumentStore
from pagewise.data.workflow import Workflow
from pagewise.documents.errors import DocumentError
from pagewise.documents.kinds import detect_kind
from pagewise.logic.keys import source_key, tenant_part
from pagewise.models import TERMINAL_STATUSES, ErrorCode, JobStatus

LOG = logging.getLogger(__name__)
# Enough for every magic number; a PDF header may sit anywhere in the first kilobyte.
MAGIC_BYTES = 1024


@dataclass(frozen=True)
class IngestOutcome:
    job_id: str | None
    action: str  # "started", "rejected", "ignored"
    detail: str = ""
    # Set when rejected: the job's error code, and whether this call is the first to report
    # the failure (the handler counts it in the JobsFailed metric then).
    error_code: str | None = None
    first_report: bool = False


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(tenant part, job_id) of ``uploads/{tenant part}/{job_id}/{file}`` (an object key,
    already decoded from its event: see keys.object_key_from_event), else None."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "uploads" or not all(parts[1:]):
        return None
    return parts[1], parts[2]


def accept_upload(
    key: str,
    jobs: JobRepository,
    store: DocumentStore,
    workflow: Workflow,
    max_bytes: int,
) -> IngestOutcome:
    """Check the object at ``key`` (the real key, decoded once by the caller) and start its
    job's execution."""
    parsed = parse_upload_key(key)
    if parsed is None:
        return IngestOutcome(None, "ignored", f"not an upload key: {key}")
    owner, job_id = parsed
    job = jobs.get(job_id)
    if job is None or tenant_part(job.tenant) != owner or job.upload_key != key:
        return IngestOutcome(job_id, "ignored", "no job for this upload")
    if job.processing_status in TERMINAL_STATUSES:
        return IngestOutcome(job_id, "ignored", f"job already {job.processing_status}")

    if job.processing_status == JobStatus.AWAITING_UPLOAD:
        if store.head(key) is None:
            return IngestOutcome(job_id, "ignored", "object no longer exists")
        # The upload form stays valid after this: a second POST can replace the uploads/
        # object. The copy cannot be written by any form; it is what is checked here and in
        # Prepare, and what every later step reads.
        source = source_key(job_id)
        store.copy(key, source)
        stored = store.head(source)
        if stored is None:
            return IngestOutcome(job_id, "ignored", "the copy of the upload is missing")
        problem = _check_upload(store, source, stored.size, max_bytes)
        if problem is not None:
            code, message = problem
            jobs.fail(job_id, code, message)
            first = jobs.claim_failure_report(job_id)
            return IngestOutcome(job_id, "rejected", message, error_code=code, first_report=first)
        jobs.advance(job_id, JobStatus.QUEUED, file_size=stored.size, source_key=source)

    # Reached also when a previous attempt queued the job but failed to start it: starting
    # again is safe, the execution is named by the job id.
    execution_arn = workflow.start(job_id)
    jobs.update_fields(job_id, execution_arn=execution_arn)
    return IngestOutcome(job_id, "started", execution_arn)


def _check_upload(
    store: DocumentStore, key: str, size: int, max_bytes: int
) -> tuple[str, str] | None:
    if size == 0:
        return ErrorCode.EMPTY_DOCUMENT, "The uploaded file is empty."
    if size > max_bytes:
        return (
            ErrorCode.FILE_TOO_LARGE,
            f"The uploaded file is {size} bytes; the limit is {max_bytes} bytes.",
        )
    try:
        detect_kind(store.read_prefix(key, MAGIC_BYTES))
    except DocumentError as error:
        return error.error_code, error.message
    return None
