"""`GET /api/v1/health` and the Swagger page at `/docs`."""

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from pagewise_api.dependencies import JobServiceDep
from pagewise_api.routes import API
from pagewise_api.schemas import HealthResponse

router = APIRouter()


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    # A relative URL: behind API Gateway the app lives under /{stage} (AWS) or
    # /_aws/execute-api/{api}/{stage} (LocalStack), which the app cannot see.
    return get_swagger_ui_html(openapi_url="openapi.json", title="Pagewise API")


@router.get(f"{API}/health", tags=["health"], responses={503: {"model": HealthResponse}})
def health(job_service: JobServiceDep) -> JSONResponse:
    checks = job_service.health()
    healthy = all(value == "ok" for value in checks.values())
    body = HealthResponse(status="ok" if healthy else "degraded", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
