"""A job's result, stored once and read in pages.

Each page's text lives once, in ``page_results`` (one document per (job, page)).
``ai_extracted_content`` holds the summary, the LLM usage and the page results by reference
(the collection, the job and the page count); the report text (the PDF's body) is an S3 object
under ``work/{job_id}/``. ``GET /result`` reads a bounded slice of pages: at most ``page_size``
pages and at most :data:`RESULT_BODY_BUDGET` bytes of them in the Lambda's response, so no
document, however long, makes a response over Lambda's 6 MB or a document over MongoDB's
16 MiB (scripts/aws_limits.py checks both at MAX_PAGES).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pagewise.models import PageReport

# The most characters a page keeps per text field (OCR text, legal and plain English) and the
# summary keeps: a dense page of legal text has 4,000-9,000; beyond this it is not a page.
MAX_PAGE_TEXT_CHARS = 100_000
CLIPPED_MARK = "\n[… text clipped: the page had more than {limit:,} characters]"
# Pages per /result response: the default and the most a caller may ask for.
RESULT_PAGE_SIZE = 50
MAX_RESULT_PAGE_SIZE = 100
# Bytes of page results (and report) per response, as the Lambda returns them; the rest of the
# 6 MB is for the summary and the fixed fields. One page always fits (3 fields at the clip
# limit, 7 bytes per character at worst: 2.1 MB).
RESULT_BODY_BUDGET = 3_500_000


def clip_text(text: str | None, limit: int = MAX_PAGE_TEXT_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters (mark included), saying that it was."""
    if text is None or len(text) <= limit:
        return text
    mark = CLIPPED_MARK.format(limit=limit)
    return text[: limit - len(mark)] + mark


class OutputLink(BaseModel):
    """One output of the job (docs/outputs.md): the API route and a short-lived GET."""

    variant: str
    file_name: str
    content_type: str
    url: str
    download_url: str | None = None


class PreviewLink(BaseModel):
    """A page's PNG previews, short-lived GETs: the source and the overlay."""

    page: int
    source_url: str
    overlay_url: str


class ResultResponse(BaseModel):
    """``GET /api/v1/jobs/{id}/result``: the job's result with a slice of its pages.

    A document of at most ``page_size`` pages comes whole, as before paging (with
    ``ai_report_content``); a longer one comes in slices linked by ``next``, and its report
    text is left out (it is the pages' texts again, laid out as in the PDF).
    """

    document_id: str
    layout: str | None = None
    page_results: list[PageReport]
    summary: str | None = None
    summary_method: str | None = None
    summary_info: dict[str, Any] | None = None
    ai_report_content: str | None = None
    llm_usage: dict[str, Any] | None = None
    created_at: datetime | None = None
    # The outputs with their URLs, the previews of this slice's pages, the overlay's
    # overflow (blocks per page continued in a note) and each output's render seconds.
    outputs: list[OutputLink] = Field(default_factory=list)
    previews: list[PreviewLink] = Field(default_factory=list)
    overlay: dict[str, Any] | None = None
    render_seconds: dict[str, float] = Field(default_factory=dict)
    # Issue 17 (docs/legal-features.md): the overview with its pages and the checked key
    # facts, the estimate made before translation, and the glossary the job used.
    summary_cited: dict[str, Any] | None = None
    cost_estimate: dict[str, Any] | None = None
    glossary: dict[str, Any] | None = None
    # Paging.
    total_pages: int
    page_from: int
    page_size: int
    next_page_from: int | None = None
    next: str | None = None


def lambda_payload_bytes(value: Any) -> int:
    """Bytes ``value`` takes in the Lambda's response: FastAPI's JSON (UTF-8, not escaped),
    then that text as the ``body`` string of the API Gateway proxy answer, JSON again."""
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(json.dumps(body, ensure_ascii=False).encode()) - 2


def result_page(
    stored: Mapping[str, Any],
    pages: Sequence[Mapping[str, Any]],
    *,
    page_from: int,
    page_size: int,
    read_report: Callable[[], str | None],
    budget: int = RESULT_BODY_BUDGET,
) -> ResultResponse:
    """The response for ``pages`` (the stored pages from ``page_from`` on, at most
    ``page_size``, in page order) of the result ``stored`` (``ai_extracted_content``)."""
    total = int(stored.get("page_count", len(stored.get("page_results") or ())))
    items: list[PageReport] = []
    used = 0
    next_from: int | None = None
    for page in pages:
        item = PageReport.model_validate(page)
        size = lambda_payload_bytes(item.model_dump(mode="json"))
        if items and used + size > budget:
            next_from = item.page
            break
        items.append(item)
        used += size
    if next_from is None and items and items[-1].page < total:
        next_from = items[-1].page + 1
    report: str | None = None
    if page_from <= 1 and next_from is None:
        # The whole document is in this response: its report text too, as before paging.
        text = read_report()
        if text is not None and used + lambda_payload_bytes(text) <= budget:
            report = text
    return ResultResponse(
        document_id=str(stored["document_id"]),
        layout=stored.get("layout"),
        page_results=items,
        summary=stored.get("summary"),
        summary_method=stored.get("summary_method"),
        summary_info=stored.get("summary_info"),
        ai_report_content=report,
        llm_usage=stored.get("llm_usage"),
        created_at=stored.get("created_at"),
        summary_cited=stored.get("summary_cited"),
        cost_estimate=stored.get("cost_estimate"),
        glossary=stored.get("glossary"),
        total_pages=total,
        page_from=page_from,
        page_size=page_size,
        next_page_from=next_from,
    )
