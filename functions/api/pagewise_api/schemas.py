"""Request and response bodies: the contract of the service Pagewise replaces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pagewise.models import Layout
from pydantic import BaseModel, Field


class CreateJobBody(BaseModel):
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100)
    file_size: int = Field(gt=0)
    client_name: str | None = Field(default=None, max_length=200)
    report_id: str | None = Field(default=None, max_length=200)
    source_language: str | None = Field(
        default=None,
        max_length=20,
        description="ISO 639-1 (es) or Tesseract (spa) code; detected when absent.",
    )
    layout: Layout = Field(
        default="standard",
        description="standard: legal and plain English; bilingual: source and translation "
        "side by side.",
    )
    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Called once the job is completed or failed: a signed JSON POST (see "
        "docs/notifications.md). https only; private and link-local addresses are refused.",
    )
    glossary: str | None = Field(
        default=None,
        max_length=64,
        description="The name of one of your glossaries (PUT /api/v1/glossaries/{name}); the "
        "job keeps a copy of it as it is now.",
    )
    max_cost: float | None = Field(
        default=None,
        ge=0,
        description="USD. Once the pages are read, a job whose estimated LLM cost is above "
        "this fails with cost_limit_exceeded before any LLM call.",
    )


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class CreateJobResponse(BaseModel):
    job_id: str
    document_id: str
    status: str
    status_url: str
    upload: UploadForm


class WorkflowView(BaseModel):
    state: str
    ready: bool
    succeeded: bool
    failed: bool
    execution_arn: str | None
    console_url: str | None
    start_date: datetime | None
    stop_date: datetime | None


class CeleryView(BaseModel):
    """The old service's ``celery`` block, kept for the dashboards that read it: the same
    values as ``workflow``'s fields of the same names."""

    state: str
    ready: bool
    succeeded: bool
    failed: bool


class JobDetails(BaseModel):
    processing_status: str
    current_page: int
    pages_translated: int
    total_pages: int | None
    output_pdf_path: str | None
    error_code: str | None
    error_message: str | None
    completed_at: datetime | None
    expires_at: datetime | None = Field(
        description="When the job, its results and its files are deleted (RetentionDays); "
        "null: kept."
    )
    summary: str | None
    file_name: str
    client_name: str | None
    report_id: str | None
    created_at: datetime
    status_history: list[dict[str, Any]]
    # Issue 17: the glossary's name, the spending cap, the estimate made once the pages were
    # read (before any LLM call), and what the job used (set when it completes).
    glossary: str | None = None
    max_cost: float | None = None
    cost_estimate: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None


class JobStatusResponse(BaseModel):
    job_id: str
    workflow: WorkflowView
    celery: CeleryView = Field(description="Deprecated alias of workflow (the old service's).")
    details: JobDetails
    download_url: str | None


class JobListItem(BaseModel):
    job_id: str
    file_name: str
    status: str
    current_page: int
    total_pages: int | None
    created_at: datetime
    status_url: str


class JobListResponse(BaseModel):
    jobs: list[JobListItem]
    next_cursor: str | None


class ErrorResponse(BaseModel):
    error_code: str
    message: str
    request_id: str | None


class HealthResponse(BaseModel):
    status: str
    checks: dict[str, str]


class DeleteJobResponse(BaseModel):
    job_id: str
    outcome: str  # "cancelled" (it was running) or "deleted" (with its files)


class LegacyUploadResponse(BaseModel):
    """The answer of the old one-shot upload, unchanged for its clients."""

    success: bool
    job_id: str
    document_id: str
    report_id: str | None
    file_name: str
    file_size_mb: float
    status: str
    status_url: str
    message: str


class StateRunView(BaseModel):
    """One state entered by the execution; a Map's iterations each enter their states."""

    state: str = Field(description='The label: "Prepare", "OcrPage[page 2]", or by index.')
    name: str = Field(description="The state's name in the state machine definition.")
    type: str = Field(description="Task, Map, Fail, Pass, ...")
    depth: int = Field(description="0 at the top level, 1 inside a Map iteration.")
    page: int | None
    iteration: int | None = Field(description="The Map iteration's index (from 0).")
    status: str = Field(description="running, succeeded, failed or aborted.")
    entered_at: datetime
    exited_at: datetime | None
    duration_ms: int | None
    attempts: int
    retries: int
    retry_errors: list[str] = Field(description="The error of each attempt that was retried.")
    error: str | None
    cause: str | None = Field(description="The error's message, without any stack trace.")


class JobHistoryResponse(BaseModel):
    job_id: str
    processing_status: str
    execution_arn: str | None
    status: str = Field(
        description="The execution's: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or "
        "PENDING while it has none."
    )
    started_at: datetime | None
    stopped_at: datetime | None
    duration_ms: int | None
    error: str | None
    cause: str | None
    states: list[StateRunView]
