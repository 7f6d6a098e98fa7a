"""`GET /api/v1/jobs/{job_id}/history`: the job's execution, state by state."""

from fastapi import APIRouter

from pagewise_api.dependencies import JobServiceDep, OwnedJob
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API
from pagewise_api.schemas import JobHistoryResponse, StateRunView

router = APIRouter(prefix=f"{API}/jobs/{{job_id}}", responses=ERROR_RESPONSES)


@router.get("/history", response_model=JobHistoryResponse)
def history(job: OwnedJob, job_service: JobServiceDep) -> JobHistoryResponse:
    timeline = job_service.history(job)
    if timeline is None:
        return JobHistoryResponse(
            job_id=job.job_id,
            processing_status=job.processing_status,
            execution_arn=None,
            status="PENDING",
            started_at=None,
            stopped_at=None,
            duration_ms=None,
            error=None,
            cause=None,
            states=[],
        )
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
        states=[
            StateRunView(
                state=run.state,
                name=run.name,
                type=run.type,
                depth=run.depth,
                page=run.page,
                iteration=run.iteration,
                status=run.status,
                entered_at=run.entered_at,
                exited_at=run.exited_at,
                duration_ms=run.duration_ms,
                attempts=run.attempts,
                retries=run.retries,
                retry_errors=run.retry_errors,
                error=run.error,
                cause=run.cause,
            )
            for run in timeline.states
        ],
    )
