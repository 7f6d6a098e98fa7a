"""What a finished job produced: each output (a redirect to S3) and the result."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import RedirectResponse
from pagewise.logic.results import MAX_RESULT_PAGE_SIZE, RESULT_PAGE_SIZE, ResultResponse
from pagewise.variants import DEFAULT_VARIANT, Variant

from pagewise_api.dependencies import JobServiceDep, OwnedJob
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API, status_url

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
def result(
    job: OwnedJob,
    job_service: JobServiceDep,
    page_from: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_RESULT_PAGE_SIZE)] = RESULT_PAGE_SIZE,
) -> ResultResponse:
    """The job's result; a long document in slices of pages, each linking the ``next``."""
    content = job_service.result(job, page_from, page_size)
    if content is None:
        raise HTTPException(status_code=404, detail="The job has no result yet.")
    if content.next_page_from is not None:
        content.next = (
            f"{status_url(job.job_id)}/result?page_from={content.next_page_from}"
            f"&page_size={page_size}"
        )
    return content
