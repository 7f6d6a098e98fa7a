"""A tenant's usage over a period: jobs, pages, LLM tokens and cost (GET /api/v1/usage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from pagewise.data.usage import UsageRepository
from pagewise.models import JobStatus


class UsageReport(BaseModel):
    tenant: str
    start: datetime
    end: datetime
    jobs: int
    jobs_completed: int
    jobs_failed: int
    # Pages of the jobs that were read (total_pages), and the LLM's tokens and cost as Render
    # recorded them (completed jobs; a failed job's partial LLM use is not counted).
    pages: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    # Completed jobs whose model had no configured price: their tokens are counted, their cost
    # is not.
    jobs_without_price: int
    currency: str = "USD"


@dataclass
class UsageService:
    usage: UsageRepository

    def report(self, tenant: str, start: datetime, end: datetime) -> UsageReport:
        rows = self.usage.jobs_between(tenant, start, end)
        prompt = completion = pages = unpriced = 0
        cost = 0.0
        for row in rows:
            pages += int(row.get("total_pages") or 0)
            used = row.get("usage") or {}
            prompt += int(used.get("prompt_tokens") or 0)
            completion += int(used.get("completion_tokens") or 0)
            if used and used.get("cost") is None:
                unpriced += 1
            cost += float(used.get("cost") or 0.0)
        return UsageReport(
            tenant=tenant,
            start=start,
            end=end,
            jobs=len(rows),
            jobs_completed=sum(
                1 for r in rows if r.get("processing_status") == JobStatus.COMPLETED
            ),
            jobs_failed=sum(1 for r in rows if r.get("processing_status") == JobStatus.FAILED),
            pages=pages,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            cost=round(cost, 6),
            jobs_without_price=unpriced,
        )
