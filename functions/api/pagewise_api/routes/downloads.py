"""What a finished job produced: each output (a redirect to S3) and the result."""

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse
from pagewise.variants import DEFAULT_VARIANT, Variant

from pagewise_api.dependencies import JobServiceDep, OwnedJob
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API

router = APIRouter(prefix=f"{API}/jobs/{{job_id}}", responses=ERROR_RESPONSES)


@router.get("/download", status_code=307)
def download(
    job: OwnedJob, job_service: JobServiceDep, variant: Variant = DEFAULT_VARIANT
) -> RedirectResponse:
    """A redirect to a short-lived GET of one output: report (default, the translated PDF),
    overlay, searchable or docx, with its content type and file name."""
    url = job_service.download_url(job, variant)
    if url is None:
        what = "translated PDF" if variant == DEFAULT_VARIANT else f"{variant} output"
        raise HTTPException(status_code=404, detail=f"The {what} is not ready.")
    return RedirectResponse(url, status_code=307)


@router.get("/result")
def result(job: OwnedJob, job_service: JobServiceDep) -> dict[str, Any]:
    content = job_service.result(job)
    if content is None:
        raise HTTPException(status_code=404, detail="The job has no result yet.")
    content.pop("tenant", None)
    return content
