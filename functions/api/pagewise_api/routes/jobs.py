"""Jobs: create one (a presigned upload, or the old one-shot upload), list them, read one's
status, cancel or delete it."""

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pagewise.data.workflow import ExecutionView
from pagewise.logic.jobs import InvalidRequest, NewJobRequest
from pagewise.models import Job, Layout

from pagewise_api.dependencies import Identity, JobServiceDep, OwnedJob, SettingsDep, Tenant
from pagewise_api.errors import CREATE_RESPONSES, ERROR_RESPONSES
from pagewise_api.routes import API, status_url
from pagewise_api.schemas import (
    CeleryView,
    CreateJobBody,
    CreateJobResponse,
    DeleteJobResponse,
    JobDetails,
    JobListItem,
    JobListResponse,
    JobStatusResponse,
    LegacyUploadResponse,
    UploadForm,
    WorkflowView,
)

router = APIRouter(prefix=f"{API}/jobs", responses=ERROR_RESPONSES)


def _workflow_view(view: ExecutionView | None, region: str) -> WorkflowView:
    if view is None:
        return WorkflowView(
            state="PENDING",
            ready=False,
            succeeded=False,
            failed=False,
            execution_arn=None,
            console_url=None,
            start_date=None,
            stop_date=None,
        )
    console = (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{view.execution_arn}"
    )
    return WorkflowView(
        state=view.state,
        ready=view.state != "RUNNING",
        succeeded=view.state == "SUCCEEDED",
        failed=view.state in ("FAILED", "TIMED_OUT", "ABORTED"),
        execution_arn=view.execution_arn,
        console_url=console,
        start_date=view.start_date,
        stop_date=view.stop_date,
    )


def _details(job: Job) -> JobDetails:
    return JobDetails(
        processing_status=job.processing_status,
        current_page=job.current_page,
        pages_translated=job.pages_translated,
        total_pages=job.total_pages,
        output_pdf_path=job.output_pdf_path,
        error_code=job.error_code,
        error_message=job.error_message,
        completed_at=job.completed_at,
        expires_at=job.expires_at,
        summary=job.summary,
        file_name=job.file_name,
        client_name=job.client_name,
        report_id=job.report_id,
        created_at=job.created_at,
        status_history=[change.model_dump(mode="json") for change in job.status_history],
        glossary=job.glossary.name if job.glossary else None,
        max_cost=job.max_cost,
        cost_estimate=job.cost_estimate,
        usage=job.usage,
    )


def _encode_cursor(job: Job) -> str:
    """The last job of a page, by (created_at, job id): ties in created_at stay ordered."""
    text = f"{job.created_at.isoformat()}|{job.job_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(moment), job_id
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest("cursor is not valid") from error


@router.post("", status_code=201, response_model=CreateJobResponse, responses=CREATE_RESPONSES)
def create_job(
    body: CreateJobBody, caller: Identity, request: Request, job_service: JobServiceDep
) -> CreateJobResponse:
    created = job_service.create(
        caller.tenant, NewJobRequest(**body.model_dump(), notify_email=caller.email)
    )
    request.state.job_id = created.job.job_id  # the access log's correlation id
    return CreateJobResponse(
        job_id=created.job.job_id,
        document_id=created.job.job_id,
        status=created.job.processing_status,
        status_url=status_url(created.job.job_id),
        upload=UploadForm(
            url=created.upload.url,
            fields=created.upload.fields,
            expires_at=created.expires_at,
            max_bytes=created.max_bytes,
        ),
    )


@router.post(
    "/upload", status_code=201, response_model=LegacyUploadResponse, responses=CREATE_RESPONSES
)
def upload_job(
    caller: Identity,
    request: Request,
    job_service: JobServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    client_name: Annotated[str | None, Form(max_length=200)] = None,
    report_id: Annotated[str | None, Form(max_length=200)] = None,
    source_language: Annotated[str | None, Form(max_length=20)] = None,
    layout: Annotated[Layout, Form()] = "standard",
    callback_url: Annotated[str | None, Form(max_length=2048)] = None,
    glossary: Annotated[str | None, Form(max_length=64)] = None,
    max_cost: Annotated[float | None, Form(ge=0)] = None,
) -> LegacyUploadResponse:
    # Read one byte past the limit: enough to refuse a larger file without holding it.
    content = file.file.read(settings.one_shot_max_bytes + 1)
    job = job_service.create_with_content(
        caller.tenant,
        file.filename or "document",
        content,
        client_name,
        report_id,
        settings.one_shot_max_bytes,
        source_language=source_language,
        layout=layout,
        callback_url=callback_url,
        notify_email=caller.email,
        glossary=glossary,
        max_cost=max_cost,
    )
    request.state.job_id = job.job_id  # the access log's correlation id
    return LegacyUploadResponse(
        success=True,
        job_id=job.job_id,
        document_id=job.job_id,
        report_id=job.report_id,
        file_name=job.file_name,
        file_size_mb=round(job.file_size / (1024 * 1024), 3),
        status=job.processing_status,
        status_url=status_url(job.job_id),
        message="File uploaded and queued for processing.",
    )


@router.get("", response_model=JobListResponse)
def list_jobs(
    caller: Tenant,
    job_service: JobServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> JobListResponse:
    page = job_service.list(caller, limit, _decode_cursor(cursor) if cursor else None)
    return JobListResponse(
        jobs=[
            JobListItem(
                job_id=job.job_id,
                file_name=job.file_name,
                status=job.processing_status,
                current_page=job.current_page,
                total_pages=job.total_pages,
                created_at=job.created_at,
                status_url=status_url(job.job_id),
            )
            for job in page
        ],
        next_cursor=_encode_cursor(page[-1]) if len(page) == limit else None,
    )


@router.get("/{job_id}", response_model=JobStatusResponse)
def job_status(
    job: OwnedJob, job_service: JobServiceDep, settings: SettingsDep
) -> JobStatusResponse:
    workflow = _workflow_view(job_service.execution(job), settings.region)
    return JobStatusResponse(
        job_id=job.job_id,
        workflow=workflow,
        celery=CeleryView.model_validate(workflow.model_dump(include=set(CeleryView.model_fields))),
        details=_details(job),
        download_url=job_service.download_url(job),
    )


@router.delete("/{job_id}", status_code=200)
def delete_job(job: OwnedJob, job_service: JobServiceDep) -> DeleteJobResponse:
    outcome = job_service.cancel_or_delete(job)
    return DeleteJobResponse(job_id=job.job_id, outcome=outcome)
