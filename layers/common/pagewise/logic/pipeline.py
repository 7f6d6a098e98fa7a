"""The pipeline states: Prepare, OcrPage, TranslatePage, Summarise, Render, Finish, MarkFailed.

Each takes and returns pointers (job id, page number), never page text: Step Functions caps a
state's data at 256 KB. Statuses move forward by compare-and-set, so a retried or duplicate
state never moves a job backwards; progress counters only rise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.documents.errors import DocumentError
from pagewise.events import PagePointer
from pagewise.logic.errors import JobFailed, describe_failure
from pagewise.logic.report import job_result, summary_label, translation_providers
from pagewise.models import ErrorCode, Job, JobStatus, SummaryInfo
from pagewise.outputs import (
    Finished,
    MarkedFailed,
    PageRead,
    PageTranslated,
    Prepared,
    Rendered,
    Summarised,
)
from pagewise.settings import PipelineSettings

if TYPE_CHECKING:
    from pagewise.documents.llm import LlmConfig, LlmTranslator
    from pagewise.documents.summary import SummaryResult
    from pagewise.documents.translate import PageTranslation

LOG = logging.getLogger(__name__)


@dataclass
class Pipeline:
    settings: PipelineSettings
    jobs: JobRepository
    pages: PageRepository
    results: ResultRepository
    store: DocumentStore
    # Builds the LLM configuration when a state first needs it (reading the API key is a
    # Secrets Manager call in AWS); returns None when no LLM is configured: offline provider.
    llm_config: Callable[[], LlmConfig | None] = field(default=lambda: None)
    _translator: LlmTranslator | None = field(default=None, init=False, repr=False)
    _llm_checked: bool = field(default=False, init=False, repr=False)

    def _llm(self) -> LlmTranslator | None:
        """One LLM client per container, created on first use (importing openai takes ~2 s)."""
        if not self._llm_checked:
            config = self.llm_config()
            if config is not None:
                from pagewise.documents.llm import LlmTranslator

                self._translator = LlmTranslator(config)
            self._llm_checked = True
        return self._translator

    # -- helpers ---------------------------------------------------------------------------

    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Job {job_id} does not exist.")
        if job.processing_status == JobStatus.FAILED:
            # Cancelled or failed elsewhere: stop the execution instead of doing more work.
            raise JobFailed(job.error_code or ErrorCode.INTERNAL_ERROR, job.error_message or "")
        if job.processing_status == JobStatus.COMPLETED:
            # A stale or duplicate execution: it must not redo pages or rewrite results. The
            # MarkFailed its failure leads to cannot touch a completed job either.
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Job {job_id} is already completed.")
        return job

    def _fail(
        self, job_id: str, error_code: str, message: str, cause: BaseException | None = None
    ) -> NoReturn:
        """Mark the job failed, then stop the execution: JobFailed is not retried."""
        self.jobs.fail(job_id, error_code, message)
        raise JobFailed(error_code, message) from cause

    # -- states ----------------------------------------------------------------------------

    def prepare(self, job_id: str) -> Prepared:
        """Count the pages and hand the Map one pointer per page."""
        from pagewise.documents.pages import count_pages, largest_page_pixels

        job = self._job(job_id)
        self.jobs.advance(job_id, JobStatus.PROCESSING)
        try:
            data = self.store.read(job.upload_key)
            total = count_pages(data)
            page, pixels = largest_page_pixels(data, self.settings.ocr_dpi)
        except DocumentError as error:
            self._fail(job_id, error.error_code, error.message, error)
        if pixels > self.settings.max_page_pixels:
            message = (
                f"Page {page} would be {pixels / 1e6:.0f} megapixels as an image, over the "
                f"limit of {self.settings.max_page_pixels / 1e6:.0f}; it cannot be processed."
            )
            self._fail(job_id, ErrorCode.PAGE_TOO_LARGE, message)
        if total > self.settings.max_pages:
            message = (
                f"The document has {total} pages; at most {self.settings.max_pages} are "
                "processed. Split it and upload the parts."
            )
            self._fail(job_id, ErrorCode.TOO_MANY_PAGES, message)
        self.jobs.update_fields(job_id, total_pages=total)
        self.jobs.advance(job_id, JobStatus.OCR_STARTED)
        return Prepared(
            job_id=job_id,
            total_pages=total,
            pages=[PagePointer(job_id=job_id, page=page) for page in range(1, total + 1)],
        )

    def ocr_page(self, job_id: str, page: int) -> PageRead:
        from pagewise.documents.ocr import extract_page

        job = self._job(job_id)
        try:
            text = extract_page(
                self.store.read(job.upload_key),
                page,
                tesseract_cmd=self.settings.tesseract_cmd,
                languages=self.settings.ocr_languages,
                source_language=job.source_language,
                document_language=job.detected_language,
                dpi=self.settings.ocr_dpi,
            )
        except DocumentError as error:
            self._fail(job_id, error.error_code, error.message, error)
        ocr_seconds = round(text.ocr_seconds, 3)
        self.pages.save(
            job_id,
            page,
            source=text.source,
            ocr_text=text.text,
            ocr_confidence=text.confidence,
            ocr_seconds=ocr_seconds,
            ocr_reason=text.reason,
            ocr_rotation=text.rotation if text.source == "ocr" else None,
            ocr_dpi=text.dpi,
            ocr_languages=text.ocr_languages,
            # The job's declared language wins; else the page's own (it picks the Apertium
            # pair offline and labels the page).
            language=job.source_language or text.language,
        )
        if text.source != "blank" and text.language and not job.detected_language:
            self.jobs.set_once(job_id, "detected_language", text.language)
        done = self.pages.count_with(job_id, "source")
        updated = self.jobs.raise_counter(job_id, "current_page", done)
        if updated is not None and updated.total_pages is not None and done >= updated.total_pages:
            self.jobs.advance(job_id, JobStatus.OCR_COMPLETED)
        return PageRead(job_id=job_id, page=page, source=text.source, ocr_seconds=ocr_seconds)

    def translate_page(self, job_id: str, page: int) -> PageTranslated:
        job = self._job(job_id)
        # The Map over pages starts only after every OCR page returned, so OCR is complete.
        self.jobs.advance(job_id, JobStatus.OCR_COMPLETED)
        self.jobs.advance(job_id, JobStatus.TRANSLATION_STARTED)
        result = self.pages.get(job_id, page)
        if result is None:
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Page {page} has no OCR result.")
        language = job.source_language or result.language
        translation = self._translate(job_id, result.ocr_text or "", language, page)
        self.pages.save(
            job_id,
            page,
            legal_english=translation.legal_english,
            plain_english=translation.plain_english,
            translation_provider=translation.provider,
            translation_model=translation.model,
            translated=translation.translated,
            translation_note=translation.note,
            prompt_tokens=translation.prompt_tokens,
            completion_tokens=translation.completion_tokens,
            **({"language": translation.detected_language} if not language else {}),
        )
        done = self.pages.count_with(job_id, "legal_english")
        updated = self.jobs.raise_counter(job_id, "pages_translated", done)
        total = job.total_pages or 0
        if updated is not None and done >= total:
            self.jobs.advance(job_id, JobStatus.TRANSLATION_COMPLETED)
        return PageTranslated(
            job_id=job_id,
            page=page,
            provider=translation.provider,
            prompt_tokens=translation.prompt_tokens,
            completion_tokens=translation.completion_tokens,
        )

    def _translate(
        self, job_id: str, text: str, language: str | None, page: int
    ) -> PageTranslation:
        from pagewise.documents.translate import translate_offline

        translator = self._llm()
        if translator is None:
            return translate_offline(text, language)
        from pagewise.documents.llm import LlmBadRequest

        try:
            return translator.translate_page(text, source_language=language, page_number=page)
        except LlmBadRequest as error:
            # Retrying cannot fix it (bad request, auth, quota, content filter): fail the job.
            self._fail(job_id, error.error_code, f"Page {page}: {error.message}", error)
        # LlmThrottled and LlmUnavailable propagate by name: the state machine retries them
        # with backoff and jitter, then its Catch marks the job failed.

    def summarise(self, job_id: str) -> Summarised:
        from pagewise.documents.summary import summarise_offline

        self._job(job_id)
        self.jobs.advance(job_id, JobStatus.TRANSLATION_COMPLETED)
        self.jobs.advance(job_id, JobStatus.SUMMARISING)
        pages = self.pages.all_for_job(job_id)
        translator = self._llm()
        summary: SummaryResult
        if translator is None:
            summary = summarise_offline([page.plain_english or "" for page in pages])
        else:
            from pagewise.documents.llm import LlmBadRequest

            try:
                # The legal-English text: complete and faithful, where plain English simplifies.
                summary = translator.summarise([page.legal_english or "" for page in pages])
            except LlmBadRequest as error:
                self._fail(job_id, error.error_code, f"Summary: {error.message}", error)
        info = SummaryInfo(
            method=summary.method,
            provider=summary.provider,
            model=summary.model,
            note=summary.note,
            prompt_tokens=summary.prompt_tokens,
            completion_tokens=summary.completion_tokens,
        )
        self.jobs.update_fields(job_id, summary=summary.text, summary_info=info.model_dump())
        return Summarised(
            job_id=job_id,
            method=summary.method,
            prompt_tokens=summary.prompt_tokens,
            completion_tokens=summary.completion_tokens,
        )

    def render(self, job_id: str) -> Rendered:
        from pagewise.documents.render import DocumentMeta, RenderPage, render_pdf, report_text

        job = self._job(job_id)
        pages = self.pages.all_for_job(job_id)
        summary = job.summary_info or SummaryInfo(method="extractive", provider="offline")
        provider, model = translation_providers(pages)
        generated_at = datetime.now(UTC)
        render_pages = [
            RenderPage(
                page=page.page,
                source=page.source or "blank",
                language=page.language,
                source_text=page.ocr_text or "",
                legal_english=page.legal_english or "",
                plain_english=page.plain_english or "",
                note=page.translation_note or "",
                translated=bool(page.translated),
            )
            for page in pages
        ]
        meta = DocumentMeta(
            document_name=job.file_name,
            generated_at=generated_at,
            summary=job.summary or "",
            summary_label=summary_label(summary),
            source_languages=[job.source_language] if job.source_language else (),
            provider=provider,
            model=model,
            layout=job.layout,
        )
        pdf = render_pdf(meta, render_pages, font_dir=self.settings.font_dir)
        stem = job.file_name.rsplit(".", 1)[0] or "document"
        output_key = f"outputs/{job.tenant}/{job_id}/{stem}_translated.pdf"
        self.store.write(output_key, pdf, "application/pdf")
        # ai_report_content is exactly the text of the PDF's pages (render_pdf lays it out).
        content = report_text(render_pages)
        self.results.save(job_id, job_result(job, pages, summary, content, generated_at))
        # The summary also lives on the job (original_files.summary), set by Summarise.
        self.jobs.update_fields(job_id, output_pdf_path=output_key)
        return Rendered(job_id=job_id, output_key=output_key)

    def finish(self, job_id: str) -> Finished:
        job = self.jobs.advance(job_id, JobStatus.COMPLETED, completed_at=datetime.now(UTC))
        if job is None:
            current = self.jobs.get(job_id)
            LOG.warning(
                "finish found job %s at %s",
                job_id,
                current.processing_status if current else "missing",
            )
        return Finished(job_id=job_id, status=JobStatus.COMPLETED, completed_now=job is not None)

    def mark_failed(
        self, job_id: str, error: str | None, cause: str | None, page: int | None = None
    ) -> MarkedFailed:
        code, message = describe_failure(error, cause)
        if page is not None and not message.startswith("Page "):
            message = f"Page {page}: {message}"
        job = self.jobs.fail(job_id, code, message)
        current = job or self.jobs.get(job_id)
        return MarkedFailed(
            job_id=job_id,
            status=JobStatus.FAILED,
            # A state that failed the job itself set the code first; this keeps that one.
            error_code=current.error_code if current and current.error_code else code,
            already_final=job is None,
            first_report=self.jobs.claim_failure_report(job_id),
        )
