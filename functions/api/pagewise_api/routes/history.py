"""`GET /api/v1/jobs/{job_id}/history`: the job's execution, state by state."""

from fastapi import APIRouter
from pagewise.logic.timeline import ExecutionTimeline

from pagewise_api.dependencies import JobServiceDep, OwnedJob
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API
from pagewise_api.schemas import JobHistoryResponse, StateRunView

router = APIRouter(prefix=f"{API}/jobs/{{job_id}}", responses=ERROR_RESPONSES)


@router.get("/history", response_model=JobHistoryResponse)
def history(job: OwnedJob, job_service: JobServiceDep) -> JobHistoryResponse:
    # No execution yet (awaiting its upload): PENDING, no states.
    timeline = job_service.history(job) or ExecutionTimeline.pending()
    return JobHistoryResponse(
        job_id=job.job_id,
        processing_status=job.processing_status,
        execution_arn=timeline.execution_arn,
        status=timeline.status,
        started_at=timeline.started_at,
        stopped_at=timeline.stopped_at,
        duration_ms=timeline.duration_ms,
        error=timeline.error,
        cause=timeline.cause,
        states=[StateRunView.model_validate(run, from_attributes=True) for run in timeline.states],
    )
