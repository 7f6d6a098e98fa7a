"""Jobs as the API sees them: creating one for an upload, and reading its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pagewise.data.glossaries import GlossaryRepository, StoredGlossary
from pagewise.data.jobs import JobRepository, new_job_id
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore, PresignedUpload, work_prefix
from pagewise.data.workflow import ExecutionView, Workflow
from pagewise.documents.errors import DocumentError
from pagewise.documents.glossary import Glossary
from pagewise.documents.kinds import CONTENT_TYPES, detect_kind
from pagewise.logic.history import execution_timeline
from pagewise.logic.ingest import accept_upload
from pagewise.logic.keys import (
    MAX_FILE_NAME_BYTES,
    upload_key,
    utf8_length,
)
from pagewise.logic.notifications import CallbackUrlRefused, EmailClaim, check_callback_url
from pagewise.logic.results import (
    MAX_RESULT_PAGE_SIZE,
    RESULT_PAGE_SIZE,
    OutputLink,
    PreviewLink,
    ResultResponse,
    result_page,
)
from pagewise.logic.timeline import ExecutionTimeline
from pagewise.models import TERMINAL_STATUSES, ErrorCode, Job, JobStatus, Layout
from pagewise.variants import DEFAULT_VARIANT, OUTPUT_KINDS, Variant, output_file_name

PREVIEWS = ("source", "overlay")

ACCEPTED_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/tiff": "tiff",
}
# After the upload link expires, how long a job waits for the notification of a late upload.
UPLOAD_NOTIFICATION_GRACE_SECONDS = 300
# What a caller over the fair-use limit is told to wait (Retry-After): about a short job.
ACTIVE_LIMIT_RETRY_AFTER_SECONDS = 60


class InvalidRequest(ValueError):
    """A request the caller must fix (the API answers 422)."""


class FileTooLarge(ValueError):
    """A one-shot file over its limit (the API answers 413, as for any body too large)."""


class TooManyActiveJobs(Exception):
    """The tenant has its share of jobs not yet final (the API answers 429, Retry-After)."""

    def __init__(self, limit: int, retry_after_seconds: int) -> None:
        super().__init__(
            f"At most {limit} jobs may be waiting for their upload or in progress at once; "
            "wait for one to finish (or cancel one) and try again."
        )
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


def _aware(moment: datetime) -> datetime:
    # MongoDB returns naive UTC datetimes unless the client is tz_aware.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewJobRequest:
    file_name: str
    content_type: str
    file_size: int
    client_name: str | None = None
    report_id: str | None = None
    source_language: str | None = None
    layout: Layout = "standard"
    callback_url: str | None = None
    # The creator's address (the token's `email` claim and whether it is verified), told when
    # the job ends if it is verified.
    notify_email: EmailClaim | None = None
    # Issue 17: the tenant's glossary to translate with (snapshotted now), and a spending cap.
    glossary: str | None = None
    max_cost: float | None = None


@dataclass(frozen=True)
class CreatedJob:
    job: Job
    upload: PresignedUpload
    expires_at: datetime
    max_bytes: int


@dataclass
class JobService:
    jobs: JobRepository
    pages: PageRepository
    results: ResultRepository
    store: DocumentStore
    workflow: Workflow
    upload_max_bytes: int
    upload_expiry_seconds: int
    download_expiry_seconds: int
    # The local stack lets callback_url be http://127.0.0.1; AWS never does.
    allow_local_callbacks: bool = False
    # The tenants' glossaries, which a job may name (None: naming one is refused).
    glossaries: GlossaryRepository | None = None
    # RetentionDays: a job (and what it made) expires this many days after it was created;
    # 0 keeps it for ever.
    retention_days: int = 0
    # Fair use: a tenant's jobs not yet final (awaiting upload included), at most this many.
    max_active_jobs_per_tenant: int = 10

    def _check_fair_use(self, tenant: str, now: datetime) -> None:
        """Refuse a new job while the tenant has its share of jobs not yet final. Counted,
        not reserved: two requests at the same instant can both pass (a soft limit)."""
        abandoned_before = now - timedelta(
            seconds=self.upload_expiry_seconds + UPLOAD_NOTIFICATION_GRACE_SECONDS
        )
        limit = self.max_active_jobs_per_tenant
        if self.jobs.count_active(tenant, abandoned_before, limit) >= limit:
            raise TooManyActiveJobs(limit, ACTIVE_LIMIT_RETRY_AFTER_SECONDS)

    def create(self, tenant: str, request: NewJobRequest) -> CreatedJob:
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type not in ACCEPTED_CONTENT_TYPES:
            raise InvalidRequest(
                f"content_type {request.content_type!r} is not accepted; send one of "
                + ", ".join(sorted(ACCEPTED_CONTENT_TYPES))
            )
        if utf8_length(request.file_name) > MAX_FILE_NAME_BYTES:
            raise InvalidRequest(
                f"file_name is {utf8_length(request.file_name)} bytes in UTF-8; at most "
                f"{MAX_FILE_NAME_BYTES} are accepted"
            )
        if not 0 < request.file_size <= self.upload_max_bytes:
            raise InvalidRequest(f"file_size must be between 1 and {self.upload_max_bytes} bytes")
        if request.callback_url is not None:
            try:
                check_callback_url(request.callback_url, self.allow_local_callbacks)
            except CallbackUrlRefused as error:
                raise InvalidRequest(f"callback_url is not accepted: {error}") from error
        glossary = self._glossary_snapshot(tenant, request.glossary)
        now = datetime.now(UTC)
        self._check_fair_use(tenant, now)
        job_id = new_job_id()
        key = upload_key(tenant, job_id, request.file_name)
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
            layout=request.layout,
            notify_email=request.notify_email.address if request.notify_email else None,
            notify_email_verified=bool(request.notify_email and request.notify_email.verified),
            callback_url=request.callback_url,
            glossary=(
                Glossary.model_validate(glossary.model_dump(include=set(Glossary.model_fields)))
                if glossary
                else None
            ),
            glossary_version=glossary.version if glossary else None,
            max_cost=request.max_cost,
            processing_status=JobStatus.AWAITING_UPLOAD,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(days=self.retention_days) if self.retention_days else None,
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

    def _glossary_snapshot(self, tenant: str, name: str | None) -> StoredGlossary | None:
        """The tenant's glossary ``name`` as it is now: the job keeps this copy, so editing
        the glossary while the job runs changes nothing. Another tenant's is not found."""
        if name is None:
            return None
        stored = self.glossaries.get(tenant, name) if self.glossaries else None
        if stored is None:
            raise InvalidRequest(f"glossary {name!r} does not exist")
        return stored

    def create_with_content(
        self,
        tenant: str,
        file_name: str,
        content: bytes,
        client_name: str | None,
        report_id: str | None,
        max_bytes: int,
        source_language: str | None = None,
        layout: Layout = "standard",
        callback_url: str | None = None,
        notify_email: EmailClaim | None = None,
        glossary: str | None = None,
        max_cost: float | None = None,
    ) -> Job:
        """The old one-shot upload: the file comes with the request and is queued at once.

        The type is decided from the bytes. Ingest runs here rather than waiting for the S3
        event, so the answer can truthfully say "queued"; the S3 event that follows finds the
        job queued and its execution started, and does nothing.
        """
        if len(content) > max_bytes:
            raise FileTooLarge(
                f"The file is over the one-shot upload's {max_bytes} bytes; upload larger files "
                "with the presigned POST (POST /api/v1/jobs)."
            )
        if not content:
            raise InvalidRequest("file is empty")
        try:
            kind = detect_kind(content[:1024])
        except DocumentError as error:
            raise InvalidRequest(error.message) from error
        created = self.create(
            tenant,
            NewJobRequest(
                file_name=file_name,
                content_type=CONTENT_TYPES[kind],
                file_size=len(content),
                client_name=client_name,
                report_id=report_id,
                source_language=source_language,
                layout=layout,
                callback_url=callback_url,
                notify_email=notify_email,
                glossary=glossary,
                max_cost=max_cost,
            ),
        )
        self.store.write(created.job.upload_key, content, CONTENT_TYPES[kind])
        outcome = accept_upload(
            created.job.upload_key, self.jobs, self.store, self.workflow, max_bytes
        )
        # The answer says "queued": never unless the job is (a rejected file failed the job).
        if outcome.action == "rejected":
            raise InvalidRequest(outcome.detail)
        if outcome.action != "started":
            raise RuntimeError(f"job {created.job.job_id} was not started: {outcome.detail}")
        return self.jobs.get(created.job.job_id) or created.job

    def get(self, tenant: str, job_id: str) -> Job | None:
        job = self.jobs.get_for_tenant(job_id, tenant)
        return self._expire_if_abandoned(job) if job is not None else None

    def list(self, tenant: str, limit: int, after: tuple[datetime, str] | None) -> list[Job]:
        """The tenant's jobs, newest first; ``after`` is the (created_at, job id) of the last
        job of the previous page."""
        return [
            self._expire_if_abandoned(job)
            for job in self.jobs.list_for_tenant(tenant, limit, after)
        ]

    def _expire_if_abandoned(self, job: Job) -> Job:
        """A job whose upload link expired with no file is failed when next read.

        Otherwise it would wait in `awaiting_upload` for ever (a client that gave up, or an
        upload S3 refused for breaking the policy). The grace period leaves time for the
        notification of an upload made just before the deadline to reach ingest.
        """
        if job.processing_status != JobStatus.AWAITING_UPLOAD:
            return job
        deadline = job.created_at + timedelta(
            seconds=self.upload_expiry_seconds + UPLOAD_NOTIFICATION_GRACE_SECONDS
        )
        if datetime.now(UTC) < _aware(deadline):
            return job
        minutes = max(1, self.upload_expiry_seconds // 60)
        failed = self.jobs.fail(
            job.job_id,
            ErrorCode.UPLOAD_EXPIRED,
            f"No file arrived within the {minutes} minutes the upload link was valid; "
            "create a new job to try again.",
            only_from=JobStatus.AWAITING_UPLOAD,
        )
        return failed or self.jobs.get(job.job_id) or job

    def execution(self, job: Job) -> ExecutionView | None:
        if job.processing_status == JobStatus.AWAITING_UPLOAD:
            return None
        return self.workflow.describe(job.execution_arn or self.workflow.execution_arn(job.job_id))

    def history(self, job: Job) -> ExecutionTimeline | None:
        """The job's execution as a per-state timeline; None before it has an execution."""
        if job.processing_status == JobStatus.AWAITING_UPLOAD:
            return None
        arn = job.execution_arn or self.workflow.execution_arn(job.job_id)
        events = self.workflow.history(arn)
        if events is None:  # e.g. ingest refused the upload: no execution was ever started
            return None
        timeline = execution_timeline(events)
        timeline.execution_arn = arn
        return timeline

    def download_url(self, job: Job, variant: Variant = DEFAULT_VARIANT) -> str | None:
        """A short-lived GET of one output (``report`` by default); None until it exists."""
        if job.processing_status != JobStatus.COMPLETED:
            return None
        key = job.output_keys.get(variant) or (job.output_pdf_path if variant == "report" else None)
        if not key:
            return None
        return self.store.presigned_download(
            key,
            output_file_name(job.file_name, variant),
            self.download_expiry_seconds,
            content_type=OUTPUT_KINDS[variant].content_type,
        )

    def result(
        self, job: Job, page_from: int = 1, page_size: int = RESULT_PAGE_SIZE
    ) -> ResultResponse | None:
        """One slice of the job's result (see logic/results.py), or None before Render."""
        stored = self.results.get(job.job_id)
        if stored is None:
            return None
        page_from = max(page_from, 1)
        page_size = min(max(page_size, 1), MAX_RESULT_PAGE_SIZE)
        embedded = stored.get("page_results")
        if embedded is not None:  # stored before page results were kept by reference
            pages = [page for page in embedded if page["page"] >= page_from][:page_size]
        else:
            pages = self.pages.slice_for_job(job.job_id, page_from, page_size)
        key = stored.get("ai_report_key")

        def read_report() -> str | None:
            if key is None:
                return stored.get("ai_report_content")
            return self.store.read(key).decode() if self.store.head(key) else None

        response = result_page(
            stored, pages, page_from=page_from, page_size=page_size, read_report=read_report
        )
        return self._with_outputs(job, stored, response)

    def _with_outputs(
        self, job: Job, stored: dict[str, Any], response: ResultResponse
    ) -> ResultResponse:
        """Each output with its URLs, and the previews of the pages in this slice."""
        shown = {page.page for page in response.page_results}
        response.outputs = [
            OutputLink(
                variant=variant,
                file_name=entry["file_name"],
                content_type=entry["content_type"],
                url=f"/api/v1/jobs/{job.job_id}/download?variant={variant}",
                download_url=self.download_url(job, variant),
            )
            for variant, entry in (stored.get("outputs") or {}).items()
        ]
        response.previews = [
            PreviewLink(
                page=preview["page"],
                **{
                    f"{kind}_url": self.store.presigned_view(
                        preview[f"{kind}_key"], self.download_expiry_seconds
                    )
                    for kind in PREVIEWS
                },
            )
            for preview in stored.get("previews") or []
            if preview["page"] in shown
        ]
        response.overlay = stored.get("overlay")
        response.render_seconds = stored.get("render_seconds") or {}
        return response

    def cancel_or_delete(self, job: Job) -> str:
        """Cancel a job that is still running; delete a finished one with its files.

        Returns "cancelled" or "deleted".
        """
        if job.processing_status not in TERMINAL_STATUSES:
            # The execution is stopped first (ABORTED), then the job marked: marked first, a
            # state starting in between (the mark also queues the notification) would see the
            # cancelled job and fail the execution instead of it being stopped.
            if job.processing_status != JobStatus.AWAITING_UPLOAD:
                self.workflow.stop(
                    job.execution_arn or self.workflow.execution_arn(job.job_id),
                    "Cancelled by its owner",
                )
            cancelled = self.jobs.fail(
                job.job_id, ErrorCode.CANCELLED, "The job was cancelled at its owner's request."
            )
            if cancelled is not None:
                return "cancelled"
        stored = self.results.get(job.job_id) or {}
        previews = [p[f"{kind}_key"] for p in stored.get("previews") or [] for kind in PREVIEWS]
        outputs = {job.output_pdf_path, *job.output_keys.values()} - {None}
        keys = [job.upload_key, *sorted(k for k in outputs if k)]
        keys += previews
        self.store.delete(keys)
        self.store.delete_prefix(work_prefix(job.job_id))  # page layouts, report text, ...
        self.pages.delete_for_job(job.job_id)
        self.results.delete(job.job_id)
        self.jobs.delete(job.job_id, job.tenant)
        return "deleted"

    def health(self) -> dict[str, str]:
        """Reachability of MongoDB and S3: "ok", or the kind of error (never its text)."""
        checks: dict[str, str] = {}
        for name, probe in (("mongodb", self.jobs.ping), ("s3", self.store.ping)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as error:  # a health check reports, it does not raise
                checks[name] = f"unreachable ({type(error).__name__})"
        return checks
