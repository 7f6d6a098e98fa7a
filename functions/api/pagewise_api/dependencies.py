"""What the routes depend on: the settings, the caller and the job service, each built once
by the app factory (main.create_app) and handed to a route by FastAPI's Depends."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from pagewise.logic.glossaries import GlossaryService
from pagewise.logic.jobs import JobService
from pagewise.logic.usage import UsageService
from pagewise.models import Job
from pagewise.settings import ApiSettings

from pagewise_api.auth import Caller, TokenVerifier


@dataclass(frozen=True)
class ApiContext:
    """Built once per cold start; kept on ``app.state.context``."""

    settings: ApiSettings
    verifier: TokenVerifier
    job_service: JobService
    glossary_service: GlossaryService
    usage_service: UsageService


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(api_context)]


def get_settings(context: Context) -> ApiSettings:
    return context.settings


def get_job_service(context: Context) -> JobService:
    return context.job_service


def get_glossary_service(context: Context) -> GlossaryService:
    return context.glossary_service


def get_usage_service(context: Context) -> UsageService:
    return context.usage_service


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]
GlossaryServiceDep = Annotated[GlossaryService, Depends(get_glossary_service)]
UsageServiceDep = Annotated[UsageService, Depends(get_usage_service)]


def identity(
    request: Request,
    context: Context,
    authorization: Annotated[str | None, Header()] = None,
) -> Caller:
    caller = context.verifier.caller(authorization)
    request.state.tenant = caller.tenant  # for the access log
    return caller


def tenant(caller: Annotated[Caller, Depends(identity)]) -> str:
    return caller.tenant


# The creating routes need the token's email claim too; the others, the tenant only.
Identity = Annotated[Caller, Depends(identity)]
Tenant = Annotated[str, Depends(tenant)]


def owned_job(job_id: str, caller: Tenant, job_service: JobServiceDep) -> Job:
    job = job_service.get(caller, job_id)
    if job is None:  # another tenant's job is not found either: never a 403
        raise HTTPException(status_code=404, detail="No such job.")
    return job


OwnedJob = Annotated[Job, Depends(owned_job)]
