"""The inputs of the pipeline states, validated at the edge of each handler."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobPointer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    job_id: str = Field(min_length=1)


class PagePointer(JobPointer):
    page: int = Field(ge=1)


class TranslationStep(JobPointer):
    """TranslatePage's input: a page to translate, or ``plan: true`` for PlanTranslation (the
    page-break plan and the cost estimate, once, before the pages are translated)."""

    page: int | None = Field(default=None, ge=1)
    plan: bool = False

    def require_page(self) -> int:
        if self.page is None:
            raise ValueError("TranslatePage needs a page (or plan: true)")
        return self.page


class CaughtError(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    error: str | None = Field(default=None, alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class FailureEvent(BaseModel):
    """MarkFailed's input: a Catch in the state machine, or an EventBridge status change."""

    job_id: str
    error: str | None
    cause: str | None
    # Set when a page's own iteration of a Map caught the failure, so the message can name it.
    page: int | None = None

    @classmethod
    def parse(cls, event: dict[str, Any]) -> FailureEvent:
        if event.get("detail-type") == "Step Functions Execution Status Change":
            detail = event.get("detail") or {}
            status = str(detail.get("status", "UNKNOWN"))
            # The execution is named by the job id.
            return cls(
                job_id=str(detail.get("name", "")),
                error=detail.get("error") or f"States.{status.title().replace('_', '')}",
                cause=detail.get("cause") or f"The execution ended as {status}.",
            )
        caught = CaughtError.model_validate(event.get("error") or {})
        page = event.get("page")
        return cls(
            job_id=JobPointer.model_validate(event).job_id,
            error=caught.error,
            cause=caught.cause,
            page=page if isinstance(page, int) and page > 0 else None,
        )
