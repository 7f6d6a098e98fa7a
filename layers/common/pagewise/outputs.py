"""The outputs of the pipeline states: what each handler returns to the state machine.

Handlers dump them with ``model_dump(mode="json")``; the keys are the ones the ASL reads
(statemachine/pipeline.asl.json: Prepare's ``pages`` and ``total_pages``, Render's
``output_key``, the page states' whole payload through ``OutputPath``). Pointers only, never
page text: Step Functions caps a state's data at 256 KB.
"""

from __future__ import annotations

from pagewise.events import JobPointer, PagePointer
from pagewise.models import JobStatus, PageSource


class Prepared(JobPointer):
    """Prepare: the page count, and one pointer per page for the Maps."""

    total_pages: int
    pages: list[PagePointer]


class PageRead(PagePointer):
    """OcrPage: where the text came from; ocr_seconds is for the handler's metrics (the Map
    discards the output: ResultPath null)."""

    source: PageSource
    ocr_seconds: float


class Planned(JobPointer):
    """PlanTranslation: pages whose start was translated with the previous page, and the
    estimate of the LLM calls to come (cost None: no price configured for the model)."""

    continued_pages: int
    estimated_tokens: int
    estimated_cost: float | None


class PageTranslated(PagePointer):
    """TranslatePage: who translated the page, and the tokens it cost."""

    provider: str
    prompt_tokens: int
    completion_tokens: int
    # Blocks translated one by one for the overlay (0: the page has no layout).
    blocks: int = 0


class Summarised(JobPointer):
    """Summarise: how the summary was made, and the tokens it cost."""

    method: str
    prompt_tokens: int
    completion_tokens: int


class Rendered(JobPointer):
    """Render: the translated PDF's key in the uploads bucket."""

    output_key: str


class Finished(JobPointer):
    status: JobStatus
    # This call moved the job (a retried Finish finds it completed already).
    completed_now: bool


class MarkedFailed(JobPointer):
    status: JobStatus
    error_code: str
    already_final: bool
    # True once per failed job (the metric counts it once): see claim_failure_report.
    first_report: bool
