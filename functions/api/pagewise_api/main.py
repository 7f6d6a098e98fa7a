"""The app factory: settings, the token verifier and the job service built once, then the
middleware, the error handlers and the routers (pagewise_api.routes, pagewise_api.webpage)."""

from fastapi import FastAPI
from pagewise.logic.glossaries import GlossaryService
from pagewise.logic.jobs import JobService
from pagewise.logic.usage import UsageService
from pagewise.settings import ApiSettings, JwtSettings
from pagewise.wiring import glossary_service_for, job_service_for, usage_service_for

from pagewise_api.auth import TokenVerifier
from pagewise_api.dependencies import ApiContext
from pagewise_api.errors import install_error_handlers
from pagewise_api.middleware import AccessLog, RequestSizeLimit
from pagewise_api.routes import downloads, glossaries, health, history, jobs, usage
from pagewise_api.webpage import web_router


def create_app(
    settings: ApiSettings | None = None,
    jwt_settings: JwtSettings | None = None,
    job_service: JobService | None = None,
    glossary_service: GlossaryService | None = None,
    usage_service: UsageService | None = None,
) -> FastAPI:
    settings = settings or ApiSettings.from_environment()
    jwt_settings = jwt_settings or JwtSettings.from_environment()
    app = FastAPI(title="Pagewise", version="1.0.0", docs_url=None)
    app.state.context = ApiContext(
        settings=settings,
        verifier=TokenVerifier(jwt_settings),
        job_service=job_service or job_service_for(settings),
        glossary_service=glossary_service or glossary_service_for(settings),
        usage_service=usage_service or usage_service_for(settings),
    )
    # The last one added runs first: log everything, refuse oversized bodies, then route.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessLog)
    install_error_handlers(app)
    # The web page at `/` (and the local stack's dev-token helper): see webpage.py.
    app.include_router(web_router(settings, jwt_settings))
    # In this order, the OpenAPI document lists the paths as it always has.
    for family in (health, jobs, history, downloads, glossaries, usage):
        app.include_router(family.router)
    return app
