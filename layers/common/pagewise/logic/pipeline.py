"""The pipeline states: Prepare, OcrPage, TranslatePage, Summarise, Render, Finish, MarkFailed.

Each takes and returns pointers (job id, page number), never page text: Step Functions caps a
state's data at 256 KB. Statuses move forward by compare-and-set, so a retried or duplicate
state never moves a job backwards; progress counters only rise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from pagewise.data.results import report_key
from pagewise.documents.citations import OverviewSentence
from pagewise.documents.errors import DocumentError
from pagewise.events import PagePointer
from pagewise.logic.errors import describe_failure
from pagewise.logic.report import job_result, summary_label, translation_providers
from pagewise.logic.results import clip_text
from pagewise.logic.translation_steps import TranslationSteps
from pagewise.models import ErrorCode, JobStatus, PageResult, SummaryInfo
from pagewise.outputs import (
    Finished,
    MarkedFailed,
    PageRead,
    Prepared,
    Rendered,
    Summarised,
)

LOG = logging.getLogger(__name__)


class Pipeline(TranslationSteps):
    """Every state of the state machine, one method each (the translation states in
    logic/translation_steps.py)."""

    # -- states ----------------------------------------------------------------------------

    def prepare(self, job_id: str) -> Prepared:
        """Count the pages and hand the Map one pointer per page."""
        from pagewise.documents.pages import count_pages, largest_page_pixels

        job = self._job(job_id)
        self.jobs.advance(job_id, JobStatus.PROCESSING)
        try:
            data = self.store.read(job.document_key)
            total = count_pages(data)
        except DocumentError as error:
            self._fail(job_id, error.error_code, error.message, error)
        # Counted before any page is measured: measuring is per page, and a small file can
        # hold tens of thousands of pages.
        if total > self.settings.max_pages:
            message = (
                f"The document has {total} pages; at most {self.settings.max_pages} are "
                "processed. Split it and upload the parts."
            )
            self._fail(job_id, ErrorCode.TOO_MANY_PAGES, message)
        try:
            page, pixels = largest_page_pixels(data, self.settings.ocr_dpi)
        except DocumentError as error:
            self._fail(job_id, error.error_code, error.message, error)
        if pixels > self.settings.max_page_pixels:
            message = (
                f"Page {page} would be {pixels / 1e6:.0f} megapixels as an image, over the "
                f"limit of {self.settings.max_page_pixels / 1e6:.0f}; it cannot be processed."
            )
            self._fail(job_id, ErrorCode.PAGE_TOO_LARGE, message)
        self.jobs.update_fields(job_id, total_pages=total)
        self.jobs.advance(job_id, JobStatus.OCR_STARTED)
        return Prepared(
            job_id=job_id,
            total_pages=total,
            pages=[PagePointer(job_id=job_id, page=page) for page in range(1, total + 1)],
        )

    def ocr_page(self, job_id: str, page: int) -> PageRead:
        from pagewise.data.layouts import LayoutStore
        from pagewise.documents.ocr import extract_page

        job = self._job(job_id)
        try:
            text = extract_page(
                # The checked copy, the same for every page: a warm environment reads it once.
                self.store.read_again(job.document_key, unchanging=job.document_unchanging),
                page,
                data_dir=self.settings.ocr_data_dir,
                languages=self.settings.ocr_languages,
                source_language=job.source_language,
                document_language=job.detected_language,
                dpi=self.settings.ocr_dpi,
            )
        except DocumentError as error:
            self._fail(job_id, error.error_code, error.message, error)
        ocr_seconds = round(text.ocr_seconds, 3)
        if text.layout is not None:  # saved before the page counts as done
            LayoutStore(self.store).save(job_id, text.layout)
        self.pages.save(
            job_id,
            page,
            expires_at=job.expires_at,
            source=text.source,
            ocr_text=clip_text(text.text),
            ocr_confidence=text.confidence,
            ocr_seconds=ocr_seconds,
            ocr_reason=text.reason,
            ocr_rotation=text.rotation if text.source == "ocr" else None,
            ocr_dpi=text.dpi,
            ocr_languages=text.ocr_languages,
            ocr_engine=text.engine,
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

    def summarise(self, job_id: str) -> Summarised:
        """The overview (each sentence with its pages) and the key facts (each with its page
        and a verbatim quote, verified on that page before it is shown)."""
        from pagewise.documents.citations import (
            PATTERN_LABEL,
            checked_summary,
            overview_text,
            pattern_facts,
        )

        self._job(job_id)
        self.jobs.advance(job_id, JobStatus.TRANSLATION_COMPLETED)
        self.jobs.advance(job_id, JobStatus.SUMMARISING)
        pages = self.pages.all_for_job(job_id)
        sources = {page.page: page.ocr_text or "" for page in pages}
        # A quote may run on into the words the page's last sentence took from the next page.
        checkable = {
            page.page: " ".join(filter(None, (page.ocr_text, page.completion))) for page in pages
        }
        translator = self._llm()
        if translator is None:
            from pagewise.documents.summary import EXTRACTIVE_NOTE, extractive_sentences

            picked = extractive_sentences([page.plain_english or "" for page in pages])
            # extractive_sentences numbers the pages it was given from 1: map back.
            numbers = [page.page for page in pages]
            overview = [
                OverviewSentence(text=text, pages=[numbers[n - 1] for n in cited])
                for text, cited in picked
            ]
            cited = checked_summary(overview, pattern_facts(sources), checkable, PATTERN_LABEL)
            info = SummaryInfo(
                method="extractive" if overview else "none",
                provider="offline",
                note=EXTRACTIVE_NOTE,
            )
        else:
            from pagewise.documents.llm import LlmBadRequest

            try:
                answer = translator.cited_summary(sorted(sources.items()))
            except LlmBadRequest as error:
                self._fail(job_id, error.error_code, f"Summary: {error.message}", error)
            model = translator.config.model
            cited = checked_summary(
                answer.overview,
                answer.facts,
                checkable,
                f"Key facts extracted by {model} (LLM); each quote was looked for on its page.",
            )
            info = SummaryInfo(
                method="none"
                if not answer.calls
                else "llm"
                if answer.calls == 1
                else "llm_map_reduce",
                provider=translator.config.provider_label,
                model=model,
                note=f"Summary by {model} (LLM), each sentence citing its pages.",
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
            )
        self.jobs.update_fields(
            job_id,
            summary=clip_text(overview_text(cited.overview)),
            summary_info=info.model_dump(),
            summary_cited=cited.model_dump(),
            llm_cost=self._llm_cost(pages, info),
        )
        return Summarised(
            job_id=job_id,
            method=info.method,
            prompt_tokens=info.prompt_tokens,
            completion_tokens=info.completion_tokens,
        )

    def _llm_cost(self, pages: Sequence[PageResult], summary: SummaryInfo) -> float | None:
        """USD for every LLM call of the job (pages, blocks, summary), each at its model's price;
        None when a model that was used has no price. Here, where the LLM settings are."""
        from pagewise.documents.cost import cost_of

        # Each page's translation and its per-block translation (the overlay's), same model.
        calls = [
            (
                p.translation_model,
                p.prompt_tokens + p.block_prompt_tokens,
                p.completion_tokens + p.block_completion_tokens,
            )
            for p in pages
        ]
        calls.append((summary.model, summary.prompt_tokens, summary.completion_tokens))
        total = 0.0
        for model, prompt, completion in calls:
            if not prompt and not completion:
                continue
            cost = cost_of(prompt, completion, self.settings.llm_prices.get(model or ""))
            if cost is None:
                return None
            total += cost
        return round(total, 6)

    def render(self, job_id: str) -> Rendered:
        from pagewise.documents.render import DocumentMeta, RenderPage, render_pdf, report_text
        from pagewise.logic.page_outputs import PageOutputs
        from pagewise.variants import output_key as outputs_key

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
                continuation=page.continuation or "",
                completion=page.completion or "",
                glossary_applied=[
                    f"{e['source']} → {e['target']}" for e in page.glossary_applied or []
                ],
                glossary_missed=[
                    f"{e['source']} → {e['target']}" for e in page.glossary_missed or []
                ],
            )
            for page in pages
        ]
        cited = job.summary_cited
        meta = DocumentMeta(
            document_name=job.file_name,
            generated_at=generated_at,
            summary=job.summary or "",
            summary_label=summary_label(summary),
            source_languages=[job.source_language] if job.source_language else (),
            provider=provider,
            model=model,
            layout=job.layout,
            key_facts=cited.shown_facts if cited else (),
            facts_label=cited.facts_label if cited else "",
            facts_unverified=cited.facts_unverified if cited else 0,
            glossary=(
                f"{job.glossary.name} (version {job.glossary_version}, "
                f"{len(job.glossary.entries)} entries)"
                if job.glossary
                else None
            ),
        )
        started = time.perf_counter()
        pdf = render_pdf(meta, render_pages, font_dir=self.settings.font_dir)
        report_seconds = round(time.perf_counter() - started, 3)
        output_key = outputs_key(job.tenant, job_id, job.file_name, "report")
        self.store.write(output_key, pdf, "application/pdf")
        # The report text (exactly the text of the PDF's pages) goes to S3 once; the page
        # texts stay in page_results, referred to by the result.
        content_key = report_key(job_id)
        self.store.write(
            content_key, report_text(render_pages).encode(), "text/plain; charset=utf-8"
        )
        outputs = PageOutputs(self.settings, self.store).render(job, pages, meta, render_pages)
        outputs.keys["report"] = output_key
        outputs.seconds["report"] = report_seconds
        result = job_result(job, pages, summary, content_key, generated_at)
        self.results.save(job_id, result.model_copy(update=outputs.result_fields(job.file_name)))
        # The summary also lives on the job (original_files.summary), set by Summarise; the
        # usage too, for GET /usage.
        self.jobs.update_fields(
            job_id,
            output_pdf_path=output_key,
            output_keys=outputs.keys,
            usage={
                "pages": len(pages),
                "prompt_tokens": result.llm_usage.prompt_tokens,
                "completion_tokens": result.llm_usage.completion_tokens,
                "cost": result.llm_usage.cost,
            },
        )
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
