"""What Render writes besides the PDF: the cover page's summary line and the job's result."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pagewise.models import (
    Job,
    JobResult,
    LlmUsage,
    PageResult,
    PageResultsRef,
    SummaryInfo,
    TokenCount,
)

OFFLINE_SUMMARY_LABEL = "Extractive summary (sentences taken from the source text; no LLM)."


def summary_label(summary: SummaryInfo) -> str:
    """The cover page's line on how the summary was made."""
    if summary.method == "extractive":
        return OFFLINE_SUMMARY_LABEL
    if summary.method == "none":
        return "No summary: the document has no text."
    how = "in parts, then combined" if summary.method == "llm_map_reduce" else "in one pass"
    return f"Summarised by {summary.model or summary.provider} ({summary.provider}), {how}."


def translation_providers(pages: Sequence[PageResult]) -> tuple[str, str | None]:
    """(providers, models) of the pages' translations, each comma-separated."""
    providers = sorted({page.translation_provider or "offline" for page in pages})
    models = sorted({page.translation_model for page in pages if page.translation_model})
    return ", ".join(providers), ", ".join(models) or None


def llm_usage(
    pages: Sequence[PageResult], summary: SummaryInfo, cost: float | None = None
) -> LlmUsage:
    provider, model = translation_providers(pages)
    # The page translations and the per-block translations for the overlay.
    page_tokens = TokenCount(
        prompt_tokens=sum(page.prompt_tokens + page.block_prompt_tokens for page in pages),
        completion_tokens=sum(
            page.completion_tokens + page.block_completion_tokens for page in pages
        ),
    )
    prompt = page_tokens.prompt_tokens + summary.prompt_tokens
    completion = page_tokens.completion_tokens + summary.completion_tokens
    return LlmUsage(
        provider=provider,
        model=model,
        pages=page_tokens,
        summary=TokenCount(
            prompt_tokens=summary.prompt_tokens, completion_tokens=summary.completion_tokens
        ),
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cost=cost if prompt + completion else 0.0,
    )


def job_result(
    job: Job,
    pages: Sequence[PageResult],
    summary: SummaryInfo,
    report_key: str,
    generated_at: datetime,
) -> JobResult:
    """The job's ``ai_extracted_content``: the summary and the tokens spent, the pages by
    reference (their text is in ``page_results``) and the report text's S3 key."""
    return JobResult(
        tenant=job.tenant,
        layout=job.layout,
        # Goes with its job (TTL index on expires_at; None keeps it).
        expires_at=job.expires_at,
        page_count=len(pages),
        page_results_ref=PageResultsRef(job_id=job.job_id),
        summary=job.summary,
        summary_method=summary.method,
        summary_info=summary,
        ai_report_key=report_key,
        llm_usage=llm_usage(pages, summary, job.llm_cost),
        created_at=generated_at,
        summary_cited=job.summary_cited,
        cost_estimate=job.cost_estimate,
        glossary=(
            {
                "name": job.glossary.name,
                "version": job.glossary_version,
                "source_language": job.glossary.source_language,
                "target_language": job.glossary.target_language,
                "entries": len(job.glossary.entries),
            }
            if job.glossary
            else None
        ),
    )
