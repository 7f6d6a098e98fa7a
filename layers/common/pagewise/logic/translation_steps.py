"""The translation states: PlanTranslation (the split of sentences across page breaks, the
cost estimate) and TranslatePage (the page, and block by block for the overlay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cached_property
from typing import TYPE_CHECKING

from pagewise.documents.glossary import (
    GlossaryEntry,
    describe,
    entries_on_page,
    glossary_lines,
)
from pagewise.logic.errors import JobFailed
from pagewise.logic.pipeline_base import PipelineBase
from pagewise.logic.results import clip_text
from pagewise.models import ErrorCode, Job, JobStatus, PageResult, statuses_before
from pagewise.outputs import (
    PageTranslated,
    Planned,
)

if TYPE_CHECKING:
    from pagewise.documents.block_translation import BlockTranslations
    from pagewise.documents.translate import PageTranslation


class TranslationSteps(PipelineBase):
    """The states that call the LLM per page (or the offline provider); Pipeline has them."""

    @cached_property
    def _blocks_pool(self) -> ThreadPoolExecutor:
        """The thread the overlay's block call runs on beside the page's own, kept for the
        warm environment: starting a thread per page cost a few milliseconds of every
        TranslatePage, more on a busy machine (py-spy: 15 % of its handler's samples)."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="blocks")

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
            # The overlay's blocks carry the page's own text, so its own entries.
            extra_block_prompt_per_page=[
                glossary_lines(entries_on_page(entries, text)) for text in texts
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
        translator = self._llm()
        # With an LLM and a known language, the overlay's block translation runs beside the
        # page's own call, so a page takes the slower call's time, not the sum of both
        # (bench/translation.py). The page's outcome is looked at first: when its call is
        # refused or fails, that is the job's error, and the block call (made at most once,
        # never retried here) is waited for and its outcome ignored.
        blocks_pending: Future[BlockTranslations | None] | None = (
            self._blocks_pool.submit(self._block_translations, job, result, language)
            if translator is not None and language
            else None
        )
        try:
            translation = self._translate(
                job_id,
                text,
                language,
                page,
                glossary=entries_on_page(job.glossary.entries, text) if job.glossary else [],
                completion=result.completion or "",
                continues_previous=bool(result.continuation),
            )
            blocks = self._blocks_of(
                job_id,
                page,
                blocks_pending.result
                if blocks_pending is not None
                else lambda: self._block_translations(
                    job, result, language or translation.detected_language
                ),
            )
        finally:
            if blocks_pending is not None:
                # Never leave it running into the next invocation (the environment may be
                # frozen, and the pool's one thread would make the next page wait).
                wait([blocks_pending])
        glossary_check = (
            {
                "glossary_applied": describe(translation.glossary_applied),
                "glossary_missed": describe(translation.glossary_missed),
            }
            if job.glossary
            else {}
        )
        block_tokens = (
            {
                "block_prompt_tokens": blocks.prompt_tokens,
                "block_completion_tokens": blocks.completion_tokens,
            }
            if blocks is not None
            else {}
        )
        # One write for the page and its blocks' usage: the page counts as translated (below)
        # only once both are done.
        self.pages.save(
            job_id,
            page,
            **glossary_check,
            **block_tokens,
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
            blocks=len(blocks.blocks) if blocks is not None else 0,
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
            return translate_offline(
                text,
                language,
                glossary=glossary,
                apertium_datadir=self.settings.apertium_datadir,
                apertium_warm_pipelines=self.settings.apertium_warm_pipelines,
            )
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

    def _block_translations(
        self, job: Job, page: PageResult, language: str | None
    ) -> BlockTranslations | None:
        """The page block by block, for the overlay (stored for Render); None for a page
        without layout. Raises the LLM's typed errors as the page's own call does."""
        from pagewise.logic.page_outputs import PageOutputs

        outputs = PageOutputs(self.settings, self.store)
        return outputs.translate_blocks(job, page, language, self._llm())

    def _blocks_of(
        self, job_id: str, page: int, translate: Callable[[], BlockTranslations | None]
    ) -> BlockTranslations | None:
        """Runs (or waits for) the page's block translation; a refusal fails the job."""
        from pagewise.documents.llm import LlmBadRequest

        try:
            return translate()
        except LlmBadRequest as error:
            # Retrying cannot fix it (bad request, auth, content filter): fail the job.
            self._fail(job_id, error.error_code, f"Page {page} (blocks): {error.message}", error)
