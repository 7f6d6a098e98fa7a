"""The API's errors: one JSON shape (ErrorResponse) for every refusal, and the handlers that
turn exceptions into it."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pagewise.documents.glossary import GlossaryTooLarge
from pagewise.logic.jobs import FileTooLarge, InvalidRequest, TooManyActiveJobs
from starlette.exceptions import HTTPException as StarletteHTTPException

from pagewise_api.auth import AuthUnavailable, Unauthorized
from pagewise_api.schemas import ErrorResponse

# The `responses` of every route that can refuse: the error body in the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
# The routes that create a job can also be refused for fair use.
CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorResponse,
        "description": "too_many_active_jobs: the tenant has its share of jobs not yet final.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        },
    }
}


def _request_id(request: Request) -> str | None:
    event = request.scope.get("aws.event") or {}
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id) if request_id else None


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error_code=code, message=message, request_id=_request_id(request))
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _unauthorized(request: Request, _: Unauthorized) -> JSONResponse:
    return error_response(request, 401, "unauthorized", "A valid bearer token is required.")


async def _auth_unavailable(request: Request, _: AuthUnavailable) -> JSONResponse:
    # The identity provider's keys are out of reach: a 401 would tell a caller with a good
    # token to sign in again, which cannot help.
    return error_response(
        request, 503, "auth_unavailable", "Tokens cannot be checked right now; try again."
    )


async def _invalid(request: Request, error: InvalidRequest) -> JSONResponse:
    return error_response(request, 422, "invalid_request", str(error))


async def _file_too_large(request: Request, error: FileTooLarge) -> JSONResponse:
    return error_response(request, 413, "file_too_large", str(error))


async def _too_many_active_jobs(request: Request, error: TooManyActiveJobs) -> JSONResponse:
    return error_response(
        request,
        429,
        "too_many_active_jobs",
        str(error),
        headers={"Retry-After": str(error.retry_after_seconds)},
    )


async def _glossary_too_large(request: Request, error: GlossaryTooLarge) -> JSONResponse:
    return error_response(
        request, 413, "glossary_too_large", f"The glossary is too large: {error}."
    )


async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
        for item in error.errors()
    )
    return error_response(request, 422, "invalid_request", problems or "The request is not valid.")


async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
    }.get(error.status_code, "error")
    return error_response(request, error.status_code, code, str(error.detail))


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(Unauthorized)(_unauthorized)
    app.exception_handler(AuthUnavailable)(_auth_unavailable)
    app.exception_handler(InvalidRequest)(_invalid)
    app.exception_handler(TooManyActiveJobs)(_too_many_active_jobs)
    app.exception_handler(FileTooLarge)(_file_too_large)
    app.exception_handler(GlossaryTooLarge)(_glossary_too_large)
    app.exception_handler(RequestValidationError)(_validation)
    # Starlette's base class: also routing's 404/405 and FastAPI's 400 for unparsable bodies.
    app.exception_handler(StarletteHTTPException)(_http)
