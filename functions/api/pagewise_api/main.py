"""Routes. Thin: parse, call JobService, shape the answer.

No `from __future__ import annotations` here: FastAPI must see the dependency aliases built
inside create_app as real objects, not strings.
"""

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pagewise.data.jobs import JobRepository
from pagewise.data.mongo import database_for
from pagewise.data.notifications import final_status_hook
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.data.workflow import ExecutionView, Workflow
from pagewise.logic.jobs import InvalidRequest, JobService, NewJobRequest
from pagewise.models import Job, Layout
from pagewise.outputs import DEFAULT_VARIANT, Variant
from pagewise.settings import ApiSettings, JwtSettings
from starlette.exceptions import HTTPException as StarletteHTTPException

from pagewise_api.auth import AuthUnavailable, Caller, TokenVerifier, Unauthorized
from pagewise_api.middleware import AccessLog, RequestSizeLimit
from pagewise_api.schemas import (
    CreateJobBody,
    CreateJobResponse,
    DeleteJobResponse,
    ErrorResponse,
    HealthResponse,
    JobDetails,
    JobHistoryResponse,
    JobListItem,
    JobListResponse,
    JobStatusResponse,
    LegacyUploadResponse,
    StateRunView,
    UploadForm,
    WorkflowView,
)
from pagewise_api.webpage import web_router

API = "/api/v1"


def _request_id(request: Request) -> str | None:
    event = request.scope.get("aws.event") or {}
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id) if request_id else None


def _error(request: Request, status: int, code: str, message: str) -> JSONResponse:
    body = ErrorResponse(error_code=code, message=message, request_id=_request_id(request))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _status_url(job_id: str) -> str:
    return f"{API}/jobs/{job_id}"


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
        summary=job.summary,
        file_name=job.file_name,
        client_name=job.client_name,
        report_id=job.report_id,
        created_at=job.created_at,
        status_history=[change.model_dump(mode="json") for change in job.status_history],
    )


def _encode_cursor(moment: datetime) -> str:
    return base64.urlsafe_b64encode(moment.isoformat().encode()).decode()


def _decode_cursor(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest("cursor is not valid") from error


def create_app(
    settings: ApiSettings | None = None,
    jwt_settings: JwtSettings | None = None,
    service: JobService | None = None,
) -> FastAPI:
    settings = settings or ApiSettings.from_environment()
    jwt_settings = jwt_settings or JwtSettings.from_environment()
    verifier = TokenVerifier(jwt_settings)
    if service is None:
        db = database_for(settings)
        service = JobService(
            jobs=JobRepository(db, on_final=final_status_hook(settings.notifications_queue_url)),
            pages=PageRepository(db),
            results=ResultRepository(db),
            store=DocumentStore(settings.uploads_bucket),
            workflow=Workflow(settings.state_machine_arn),
            upload_max_bytes=settings.upload_max_bytes,
            upload_expiry_seconds=settings.upload_expiry_seconds,
            download_expiry_seconds=settings.download_expiry_seconds,
            allow_local_callbacks=settings.allow_local_callbacks,
        )
    jobs = service
    app = FastAPI(title="Pagewise", version="1.0.0", docs_url=None)
    # The last one added runs first: log everything, refuse oversized bodies, then route.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessLog)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, _: Unauthorized) -> JSONResponse:
        return _error(request, 401, "unauthorized", "A valid bearer token is required.")

    @app.exception_handler(AuthUnavailable)
    async def _auth_unavailable(request: Request, _: AuthUnavailable) -> JSONResponse:
        # The identity provider's keys are out of reach: a 401 would tell a caller with a good
        # token to sign in again, which cannot help.
        return _error(
            request, 503, "auth_unavailable", "Tokens cannot be checked right now; try again."
        )

    @app.exception_handler(InvalidRequest)
    async def _invalid(request: Request, error: InvalidRequest) -> JSONResponse:
        return _error(request, 422, "invalid_request", str(error))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        return _error(request, 422, "invalid_request", problems or "The request is not valid.")

    # Starlette's base class: also routing's 404/405 and FastAPI's 400 for unparsable bodies.
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
        }.get(error.status_code, "error")
        return _error(request, error.status_code, code, str(error.detail))

    def identity(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
        caller = verifier.caller(authorization)
        request.state.tenant = caller.tenant  # for the access log
        return caller

    def tenant(caller: Annotated[Caller, Depends(identity)]) -> str:
        return caller.tenant

    # The creating routes need the token's email claim too; the others, the tenant only.
    Identity = Annotated[Caller, Depends(identity)]
    Tenant = Annotated[str, Depends(tenant)]

    def owned_job(job_id: str, caller: Tenant) -> Job:
        job = jobs.get(caller, job_id)
        if job is None:  # another tenant's job is not found either: never a 403
            raise HTTPException(status_code=404, detail="No such job.")
        return job

    OwnedJob = Annotated[Job, Depends(owned_job)]
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    }

    # The web page at `/` (and the local stack's dev-token helper): see webpage.py.
    app.include_router(web_router(settings, jwt_settings))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # A relative URL: behind API Gateway the app lives under /{stage} (AWS) or
        # /_aws/execute-api/{api}/{stage} (LocalStack), which the app cannot see.
        return get_swagger_ui_html(openapi_url="openapi.json", title="Pagewise API")

    @app.get(f"{API}/health", tags=["health"], responses={503: {"model": HealthResponse}})
    def health() -> JSONResponse:
        checks = jobs.health()
        healthy = all(value == "ok" for value in checks.values())
        body = HealthResponse(status="ok" if healthy else "degraded", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)

    @app.post(f"{API}/jobs", status_code=201, response_model=CreateJobResponse, responses=errors)
    def create_job(body: CreateJobBody, caller: Identity, request: Request) -> CreateJobResponse:
        created = jobs.create(
            caller.tenant, NewJobRequest(**body.model_dump(), notify_email=caller.email)
        )
        request.state.job_id = created.job.job_id  # the access log's correlation id
        return CreateJobResponse(
            job_id=created.job.job_id,
            document_id=created.job.job_id,
            status=created.job.processing_status,
            status_url=_status_url(created.job.job_id),
            upload=UploadForm(
                url=created.upload.url,
                fields=created.upload.fields,
                expires_at=created.expires_at,
                max_bytes=created.max_bytes,
            ),
        )

    @app.post(
        f"{API}/jobs/upload",
        status_code=201,
        response_model=LegacyUploadResponse,
        responses=errors,
    )
    def upload_job(
        caller: Identity,
        request: Request,
        file: Annotated[UploadFile, File()],
        client_name: Annotated[str | None, Form(max_length=200)] = None,
        report_id: Annotated[str | None, Form(max_length=200)] = None,
        source_language: Annotated[str | None, Form(max_length=20)] = None,
        layout: Annotated[Layout, Form()] = "standard",
        callback_url: Annotated[str | None, Form(max_length=2048)] = None,
    ) -> LegacyUploadResponse:
        # Read one byte past the limit: enough to refuse a larger file without holding it.
        content = file.file.read(settings.one_shot_max_bytes + 1)
        job = jobs.create_with_content(
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
            status_url=_status_url(job.job_id),
            message="File uploaded and queued for processing.",
        )

    @app.get(f"{API}/jobs", response_model=JobListResponse, responses=errors)
    def list_jobs(
        caller: Tenant,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> JobListResponse:
        page = jobs.list(caller, limit, _decode_cursor(cursor) if cursor else None)
        return JobListResponse(
            jobs=[
                JobListItem(
                    job_id=job.job_id,
                    file_name=job.file_name,
                    status=job.processing_status,
                    current_page=job.current_page,
                    total_pages=job.total_pages,
                    created_at=job.created_at,
                    status_url=_status_url(job.job_id),
                )
                for job in page
            ],
            next_cursor=_encode_cursor(page[-1].created_at) if len(page) == limit else None,
        )

    @app.get(f"{API}/jobs/{{job_id}}", response_model=JobStatusResponse, responses=errors)
    def job_status(job: OwnedJob) -> JobStatusResponse:
        return JobStatusResponse(
            job_id=job.job_id,
            workflow=_workflow_view(jobs.execution(job), settings.region),
            details=_details(job),
            download_url=jobs.download_url(job),
        )

    @app.get(f"{API}/jobs/{{job_id}}/history", response_model=JobHistoryResponse, responses=errors)
    def history(job: OwnedJob) -> JobHistoryResponse:
        timeline = jobs.history(job)
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

    @app.get(f"{API}/jobs/{{job_id}}/download", status_code=307, responses=errors)
    def download(job: OwnedJob, variant: Variant = DEFAULT_VARIANT) -> RedirectResponse:
        """A redirect to a short-lived GET of one output: report (default), overlay,
        searchable or docx."""
        url = jobs.download_url(job, variant)
        if url is None:
            what = "translated PDF" if variant == DEFAULT_VARIANT else f"{variant} output"
            raise HTTPException(status_code=404, detail=f"The {what} is not ready.")
        return RedirectResponse(url, status_code=307)

    @app.delete(f"{API}/jobs/{{job_id}}", status_code=200, responses=errors)
    def delete_job(job: OwnedJob) -> DeleteJobResponse:
        outcome = jobs.cancel_or_delete(job)
        return DeleteJobResponse(job_id=job.job_id, outcome=outcome)

    @app.get(f"{API}/jobs/{{job_id}}/result", responses=errors)
    def result(job: OwnedJob) -> dict[str, Any]:
        content = jobs.result(job)
        if content is None:
            raise HTTPException(status_code=404, detail="The job has no result yet.")
        content.pop("tenant", None)
        return content

    return app
