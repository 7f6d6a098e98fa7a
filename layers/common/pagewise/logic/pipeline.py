"""The pipeline states: Prepare, OcrPage, TranslatePage, Summarise, Render, Finish, MarkFailed.

Each takes and returns pointers (job id, page number), never page text: Step Functions caps a
state's data at 256 KB. Statuses move forward by compare-and-set, so a retried or duplicate
state never moves a job backwards; progress counters only rise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository, report_key
from pagewise.data.storage import DocumentStore
from pagewise.documents.citations import OverviewSentence
from pagewise.documents.errors import DocumentError
from pagewise.documents.glossary import (
    GlossaryEntry,
    describe,
    entries_on_page,
    glossary_lines,
)
from pagewise.events import PagePointer
from pagewise.logic.errors import JobFailed, describe_failure
from pagewise.logic.report import job_result, summary_label, translation_providers
from pagewise.logic.results import clip_text
from pagewise.models import ErrorCode, Job, JobStatus, PageResult, SummaryInfo, statuses_before
from pagewise.outputs import (
    Finished,
    MarkedFailed,
    PageRead,
    PageTranslated,
    Planned,
    Prepared,
    Rendered,
    Summarised,
)
from pagewise.settings import PipelineSettings

if TYPE_CHECKING:
    from pagewise.documents.llm import LlmConfig, LlmTranslator
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
                self.store.read_again(job.document_key),
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

    def plan_translation(self, job_id: str) -> Planned:
        """After OCR, before any translation: where sentences cross page breaks (each page's
        share of the text), and what the LLM calls will cost; a job whose estimate is over its
        ``max_cost`` fails here, before any LLM call. See docs/legal-features.md."""
        from pagewise.documents.continuation import plan_pages
        from pagewise.documents.cost import estimate_job

        job = self._job(job_id)
        # The Map over pages ends only after every OCR page returned, so OCR is complete.
        self.jobs.advance(job_id, JobStatus.OCR_COMPLETED)
        pages = self.pages.all_for_job(job_id)
        texts = [page.ocr_text or "" for page in pages]
        plans = plan_pages(texts)
        for page, plan in zip(pages, plans, strict=True):
            self.pages.save(
                job_id,
                page.page,
                continuation=plan.continuation or None,
                completion=plan.completion or None,
                translated_source=plan.text,
            )
        entries = job.glossary.entries if job.glossary else []
        estimate = estimate_job(
            [plan.text for plan in plans],
            model=self.settings.llm_model.strip() or None,
            prices=self.settings.llm_prices,
            extra_prompt_per_page=[
                glossary_lines(entries_on_page(entries, plan.text)) for plan in plans
            ],
            source_texts=texts,
        )
        self.jobs.update_fields(job_id, cost_estimate=estimate.model_dump(mode="json"))
        over = estimate.cost is None or estimate.cost > (job.max_cost or 0)
        if job.max_cost is not None and estimate.llm_calls and over:
            # No price for the model: the cost cannot be bounded, so the cap refuses it too.
            self._fail(
                job_id,
                ErrorCode.COST_LIMIT_EXCEEDED,
                f"The estimate is {estimate.describe()}, over this job's max_cost of "
                f"{job.max_cost:g} USD; no LLM was called.",
            )
        return Planned(
            job_id=job_id,
            continued_pages=sum(1 for plan in plans if plan.continues_previous),
            estimated_tokens=estimate.prompt_tokens + estimate.completion_tokens,
            estimated_cost=estimate.cost,
        )

    def translate_page(self, job_id: str, page: int) -> PageTranslated:
        job = self._job(job_id)
        if job.processing_status in statuses_before(JobStatus.TRANSLATION_STARTED):
            # The Map over pages starts only after every OCR page returned, so OCR is complete.
            # Only the first pages find the job before translation_started: the others save
            # the two round trips of compare-and-sets that could not move it.
            self.jobs.advance(job_id, JobStatus.OCR_COMPLETED)
            self.jobs.advance(job_id, JobStatus.TRANSLATION_STARTED)
        result = self.pages.get(job_id, page)
        if result is None:
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Page {page} has no OCR result.")
        language = job.source_language or result.language
        # What the plan gave this page (its text less the sentence the previous page took,
        # plus the end of its own last sentence); the page's whole text before a plan existed.
        text = (
            result.translated_source
            if result.translated_source is not None
            else (result.ocr_text or "")
        )
        translation = self._translate(
            job_id,
            text,
            language,
            page,
            glossary=entries_on_page(job.glossary.entries, text) if job.glossary else [],
            completion=result.completion or "",
            continues_previous=bool(result.continuation),
        )
        glossary_check = (
            {
                "glossary_applied": describe(translation.glossary_applied),
                "glossary_missed": describe(translation.glossary_missed),
            }
            if job.glossary
            else {}
        )
        self.pages.save(
            job_id,
            page,
            **glossary_check,
            expires_at=job.expires_at,
            legal_english=clip_text(translation.legal_english),
            plain_english=clip_text(translation.plain_english),
            translation_provider=translation.provider,
            translation_model=translation.model,
            translated=translation.translated,
            translation_note=translation.note,
            prompt_tokens=translation.prompt_tokens,
            completion_tokens=translation.completion_tokens,
            **({"language": translation.detected_language} if not language else {}),
        )
        blocks = self._translate_blocks(job, page, language or translation.detected_language)
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
            blocks=blocks,
        )

    def _translate(
        self,
        job_id: str,
        text: str,
        language: str | None,
        page: int,
        *,
        glossary: Sequence[GlossaryEntry] = (),
        completion: str = "",
        continues_previous: bool = False,
    ) -> PageTranslation:
        from pagewise.documents.translate import translate_offline

        translator = self._llm()
        if translator is None:
            return translate_offline(text, language, glossary=glossary)
        from pagewise.documents.llm import LlmBadRequest

        try:
            return translator.translate_page(
                text,
                source_language=language,
                page_number=page,
                glossary=glossary,
                completion=completion,
                continues_previous=continues_previous,
            )
        except LlmBadRequest as error:
            # Retrying cannot fix it (bad request, auth, content filter): fail the job.
            self._fail(job_id, error.error_code, f"Page {page}: {error.message}", error)
        # LlmThrottled, LlmUnavailable and LlmQuotaExceeded propagate by name: the state
        # machine retries them with backoff and jitter, then its Catch marks the job failed.

    def _translate_blocks(self, job: Job, page: int, language: str | None) -> int:
        """The page block by block, for the overlay; returns how many blocks."""
        from pagewise.logic.page_outputs import PageOutputs

        result = self.pages.get(job.job_id, page)
        if result is None:
            return 0
        outputs = PageOutputs(self.settings, self.store)
        translator = self._llm()
        if translator is None:
            blocks = outputs.translate_blocks(job, result, language, None)
        else:
            from pagewise.documents.llm import LlmBadRequest

            try:
                blocks = outputs.translate_blocks(job, result, language, translator)
            except LlmBadRequest as error:
                self._fail(
                    job.job_id, error.error_code, f"Page {page} (blocks): {error.message}", error
                )
        if blocks is None:
            return 0
        self.pages.save(
            job.job_id,
            page,
            block_prompt_tokens=blocks.prompt_tokens,
            block_completion_tokens=blocks.completion_tokens,
        )
        return len(blocks.blocks)

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
