"""The job and its statuses, shared by the API and the pipeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from pagewise.documents.citations import CitedSummary
from pagewise.documents.glossary import Glossary


class JobStatus(StrEnum):
    """Status names of the service Pagewise replaces; they only ever move forward."""

    AWAITING_UPLOAD = "awaiting_upload"
    QUEUED = "queued"
    PROCESSING = "processing"
    OCR_STARTED = "ocr_started"
    OCR_COMPLETED = "ocr_completed"
    TRANSLATION_STARTED = "translation_started"
    TRANSLATION_COMPLETED = "translation_completed"
    SUMMARISING = "summarising"
    COMPLETED = "completed"
    FAILED = "failed"


STATUS_ORDER: tuple[JobStatus, ...] = (
    JobStatus.AWAITING_UPLOAD,
    JobStatus.QUEUED,
    JobStatus.PROCESSING,
    JobStatus.OCR_STARTED,
    JobStatus.OCR_COMPLETED,
    JobStatus.TRANSLATION_STARTED,
    JobStatus.TRANSLATION_COMPLETED,
    JobStatus.SUMMARISING,
    JobStatus.COMPLETED,
)
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})


def statuses_before(status: JobStatus) -> list[JobStatus]:
    """The statuses a job may be in for a forward move to ``status``."""
    return list(STATUS_ORDER[: STATUS_ORDER.index(status)])


class ErrorCode(StrEnum):
    """Machine-readable reasons a job failed (``original_files.error_code``)."""

    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    CORRUPT_DOCUMENT = "corrupt_document"
    EMPTY_DOCUMENT = "empty_document"
    ENCRYPTED_PDF = "encrypted_pdf"
    TOO_MANY_PAGES = "too_many_pages"
    PAGE_TOO_LARGE = "page_too_large"
    FILE_TOO_LARGE = "file_too_large"
    UPLOAD_MISSING = "upload_missing"
    UPLOAD_EXPIRED = "upload_expired"
    OCR_FAILED = "ocr_failed"
    # The OCR layer's engine or traineddata are not there (a function deployed without it).
    OCR_ENGINE_MISSING = "ocr_engine_missing"
    LLM_THROTTLED = "llm_throttled"
    LLM_UNAVAILABLE = "llm_unavailable"
    LLM_BAD_REQUEST = "llm_bad_request"
    LLM_AUTH_FAILED = "llm_auth_failed"
    LLM_QUOTA_EXCEEDED = "llm_quota_exceeded"
    LLM_CONTENT_FILTERED = "llm_content_filtered"
    LLM_INVALID_OUTPUT = "llm_invalid_output"
    TIMEOUT = "timeout"
    ABORTED = "aborted"
    CANCELLED = "cancelled"
    COST_LIMIT_EXCEEDED = "cost_limit_exceeded"
    INTERNAL_ERROR = "internal_error"


class StatusChange(BaseModel):
    status: JobStatus
    at: datetime


Layout = Literal["standard", "bilingual"]


class SummaryInfo(BaseModel):
    """How the summary was made, for the PDF's first page and ``ai_extracted_content``."""

    method: str  # "extractive", "llm", "llm_map_reduce", "none"
    provider: str
    model: str | None = None
    note: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


class NotificationRecord(BaseModel):
    """What the notify function has delivered for a finished job, so a redelivered message
    never sends the email twice and stops posting the webhook once it got through."""

    email_sent_at: datetime | None = None
    webhook_attempts: int = 0
    webhook_last_status: str | None = None
    webhook_delivered_at: datetime | None = None
    # A refusal that retrying cannot fix (a 4xx other than 408/429, a forbidden address).
    webhook_gave_up_at: datetime | None = None


class Job(BaseModel):
    """One document of ``original_files``."""

    job_id: str
    tenant: str
    client_name: str | None = None
    report_id: str | None = None
    file_name: str
    content_type: str
    file_size: int
    upload_key: str
    # Ingest's copy of the upload (keys.source_key), set when the job is queued: the file
    # every step reads. None on jobs queued before the copy existed: they read upload_key.
    source_key: str | None = None
    source_language: str | None = None
    # The language the first OCR'd pages were found in: later pages of the document start
    # from it instead of probing (set once by OcrPage; the declared source_language wins).
    detected_language: str | None = None
    # The translated PDF: "standard" (legal and plain English) or "bilingual" (source text and
    # translation side by side).
    layout: Layout = "standard"
    processing_status: JobStatus
    current_page: int = 0
    pages_translated: int = 0
    total_pages: int | None = None
    output_pdf_path: str | None = None
    # Every output Render wrote, by variant (pagewise.variants): report, overlay, searchable,
    # docx; the report's key is output_pdf_path too.
    output_keys: dict[str, str] = Field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    summary: str | None = None
    summary_info: SummaryInfo | None = None
    execution_arn: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    # When the job goes, with its page results and ai_extracted_content (MongoDB TTL indexes)
    # and about when S3's lifecycle rules remove its files: created_at + RetentionDays. None
    # keeps it (RetentionDays 0).
    expires_at: datetime | None = None
    status_history: list[StatusChange] = Field(default_factory=list)
    # Notifications once the job is completed or failed: the creator's address (the token's
    # `email` claim), whether the token said its provider verified it (`email_verified`), and
    # the caller's webhook; see logic/notifications/.
    notify_email: str | None = None
    notify_email_verified: bool = False
    callback_url: str | None = None
    notifications: NotificationRecord = Field(default_factory=NotificationRecord)
    # -- legal reader (issue 17, docs/legal-features.md) --
    # The glossary the job named, as it was when the job was created (a snapshot).
    glossary: Glossary | None = None
    glossary_version: int | None = None
    # Fail before any LLM call when the estimate is above this (USD).
    max_cost: float | None = None
    # Set by PlanTranslation once the pages are read: tokens and cost before they are spent.
    cost_estimate: dict[str, Any] | None = None
    # Set by Summarise: USD for all the job's LLM calls at the configured prices (None: a
    # model used has no price).
    llm_cost: float | None = None
    # Set by Render: what the job actually used (pages, tokens, cost); GET /usage sums it.
    usage: dict[str, Any] | None = None
    # Set by Summarise: the overview with its pages, the key facts and how many were verified.
    summary_cited: CitedSummary | None = None

    @property
    def document_key(self) -> str:
        """The file the pipeline reads: the checked copy, never the uploads/ key a reused
        upload form could overwrite."""
        return self.source_key or self.upload_key

    @property
    def document_unchanging(self) -> bool:
        """Whether ``document_key`` is the checked copy, which nothing rewrites once the job
        is queued (logic/ingest.py): a warm environment may keep its bytes without asking S3
        whether they changed."""
        return self.source_key is not None

    @property
    def email_recipient(self) -> str | None:
        """Where the job's email goes: a verified address only (else anyone could make our
        sender write to an address they do not own), or nobody."""
        return self.notify_email if self.notify_email and self.notify_email_verified else None


PageSource = Literal["text_layer", "ocr", "blank"]


class PageReport(BaseModel):
    """One page as the job's result reports it (``GET .../result``'s ``page_results``)."""

    page: int
    source: PageSource | None = None
    language: str | None = None
    ocr_text: str | None = None
    ocr_confidence: float | None = None
    ocr_seconds: float | None = None
    # Why the text layer was not used (None when it was), and how OCR read the page.
    ocr_reason: str | None = None
    ocr_rotation: int | None = None
    ocr_dpi: int | None = None
    ocr_languages: str | None = None
    # The OCR engine and its version ("tesserocr 2.13.0 / tesseract 5.5.4"), when it ran.
    ocr_engine: str | None = None
    legal_english: str | None = None
    plain_english: str | None = None
    translated: bool | None = None
    translation_provider: str | None = None
    translation_model: str | None = None
    translation_note: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # -- legal reader (issue 17): the page-break plan and the glossary check --
    # The start of this page that ends a sentence begun on the previous page (translated with
    # that page), and the start of the next page taken to end this page's last sentence.
    continuation: str | None = None
    completion: str | None = None
    # The source text this page's translation covers: its own text without ``continuation``,
    # with ``completion`` at the end (None: the page's whole text, as before the plan).
    translated_source: str | None = None
    glossary_applied: list[dict[str, str]] | None = None
    glossary_missed: list[dict[str, str]] | None = None


class PageResult(PageReport):
    """One page of a job, written by OcrPage and TranslatePage (one document per page)."""

    job_id: str
    # The per-block translation for the overlay (documents/block_translation.py).
    block_prompt_tokens: int = 0
    block_completion_tokens: int = 0


class TokenCount(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class LlmUsage(BaseModel):
    """The tokens a job cost: its pages, its summary, and the sums."""

    provider: str
    model: str | None
    pages: TokenCount
    summary: TokenCount
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # USD, from the model's configured price per million tokens; None when it has none.
    cost: float | None = None


class OutputFile(BaseModel):
    """One downloadable output (pagewise.variants) as Render stored it."""

    key: str
    file_name: str
    content_type: str


class PagePreview(BaseModel):
    """The PNG previews of one page: the source and the overlay."""

    page: int
    source_key: str
    overlay_key: str


class PageOverflow(BaseModel):
    page: int
    blocks: int  # blocks whose translation continues in a note


class OverlayReport(BaseModel):
    overflowed_blocks: list[PageOverflow]
    overflowed_total: int
    appendix_pages: int


class PageResultsRef(BaseModel):
    """Where a job's page results are: one ``page_results`` document per (job, page)."""

    collection: Literal["page_results"] = "page_results"
    job_id: str


class JobResult(BaseModel):
    """One document of ``ai_extracted_content``, written by Render (``GET .../result``).

    Each page's text is stored once, in ``page_results``: this refers to them, and to the
    report text (the PDF's pages as text) in S3, so its size does not grow with the document
    (MongoDB's 16 MiB; scripts/aws_limits.py checks it at MAX_PAGES).
    """

    tenant: str
    layout: Layout
    page_count: int
    page_results_ref: PageResultsRef
    summary: str | None
    summary_method: str
    summary_info: SummaryInfo
    # The S3 key of exactly the text of the PDF's pages (work/{job_id}/report.txt).
    ai_report_key: str
    llm_usage: LlmUsage
    created_at: datetime
    # The outputs beside the report (overlay, searchable, docx), by variant, the report too;
    # the page previews; the overlay's overflow; the seconds each output took to render.
    outputs: dict[str, OutputFile] = Field(default_factory=dict)
    previews: list[PagePreview] = Field(default_factory=list)
    overlay: OverlayReport | None = None
    render_seconds: dict[str, float] = Field(default_factory=dict)
    # The job's: the result goes with it (TTL index, RetentionDays); None keeps it.
    expires_at: datetime | None = None
    # -- legal reader (issue 17) --
    summary_cited: CitedSummary | None = None
    cost_estimate: dict[str, Any] | None = None
    glossary: dict[str, Any] | None = None
