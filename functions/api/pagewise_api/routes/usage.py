"""Usage (issue 17): the tenant's jobs, pages, LLM tokens and cost over a period."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pagewise.logic.jobs import InvalidRequest
from pagewise.logic.usage import UsageReport

from pagewise_api.dependencies import Tenant, UsageServiceDep
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API

router = APIRouter(prefix=f"{API}/usage", tags=["usage"], responses=ERROR_RESPONSES)
DEFAULT_DAYS = 30


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.get("", response_model=UsageReport)
def usage(
    caller: Tenant,
    service: UsageServiceDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> UsageReport:
    """Jobs created in [from, to) (ISO 8601 dates or times, UTC when no zone is given;
    default: the last 30 days up to now)."""
    until = _aware(end) if end else datetime.now(UTC)
    since = _aware(start) if start else until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidRequest("from must be before to")
    return service.report(caller, since, until)
