"""What a finished job produced: the translated PDF (a redirect to S3) and the result."""

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse

from pagewise_api.dependencies import JobServiceDep, OwnedJob
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API

router = APIRouter(prefix=f"{API}/jobs/{{job_id}}", responses=ERROR_RESPONSES)


@router.get("/download", status_code=307)
def download(job: OwnedJob, job_service: JobServiceDep) -> RedirectResponse:
    url = job_service.download_url(job)
    if url is None:
        raise HTTPException(status_code=404, detail="The translated PDF is not ready.")
    return RedirectResponse(url, status_code=307)


@router.get("/result")
def result(job: OwnedJob, job_service: JobServiceDep) -> dict[str, Any]:
    content = job_service.result(job)
    if content is None:
        raise HTTPException(status_code=404, detail="The job has no result yet.")
    content.pop("tenant", None)
    return content
