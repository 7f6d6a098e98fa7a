"""Builds the pipeline from settings: the one place that knows how the parts fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pagewise.data.glossaries import GlossaryRepository
from pagewise.data.jobs import JobRepository
from pagewise.data.mongo import database_for, ensure_indexes
from pagewise.data.notifications import final_status_hook
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.secrets import llm_api_key
from pagewise.data.storage import DocumentStore
from pagewise.data.usage import UsageRepository
from pagewise.data.workflow import Workflow
from pagewise.logic.glossaries import GlossaryService
from pagewise.logic.jobs import JobService
from pagewise.logic.pipeline import Pipeline
from pagewise.logic.usage import UsageService
from pagewise.settings import ApiSettings, PipelineSettings, StoreSettings

if TYPE_CHECKING:
    from pymongo.database import Database

    from pagewise.documents.llm import LlmConfig


def job_repository(db: Database, settings: StoreSettings) -> JobRepository:
    """The jobs, with every final status (whoever sets it) told to the notifications queue."""
    return JobRepository(db, on_final=final_status_hook(settings.notifications_queue_url))


def llm_config_for(settings: PipelineSettings) -> LlmConfig | None:
    """The LLM configuration from settings and the key store; None means offline."""
    if not settings.llm_enabled:
        return None
    from pagewise.documents.llm import LlmConfig

    return LlmConfig(
        model=settings.llm_model,
        api_key=llm_api_key(settings) or "",
        base_url=settings.llm_base_url,
        request_timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        max_context_tokens=settings.llm_max_context_tokens,
    )


def pipeline_from_environment() -> Pipeline:
    settings = PipelineSettings.from_environment()
    db = database_for(settings)
    return Pipeline(
        settings=settings,
        jobs=job_repository(db, settings),
        pages=PageRepository(db),
        results=ResultRepository(db),
        store=DocumentStore(settings.uploads_bucket),
        llm_config=lambda: llm_config_for(settings),
    )


def job_service_for(settings: ApiSettings) -> JobService:
    """The API's job service: the jobs, their pages and results, the files, the executions."""
    db = database_for(settings)
    ensure_indexes(db)  # at the API's cold start, before any job: the retention TTL among them
    return JobService(
        jobs=job_repository(db, settings),
        pages=PageRepository(db),
        results=ResultRepository(db),
        store=DocumentStore(settings.uploads_bucket),
        workflow=Workflow(settings.state_machine_arn),
        upload_max_bytes=settings.upload_max_bytes,
        upload_expiry_seconds=settings.upload_expiry_seconds,
        download_expiry_seconds=settings.download_expiry_seconds,
        allow_local_callbacks=settings.allow_local_callbacks,
        glossaries=GlossaryRepository(db),
        retention_days=settings.retention_days,
        max_active_jobs_per_tenant=settings.max_active_jobs_per_tenant,
    )


def glossary_service_for(settings: ApiSettings) -> GlossaryService:
    return GlossaryService(GlossaryRepository(database_for(settings)))


def usage_service_for(settings: ApiSettings) -> UsageService:
    return UsageService(UsageRepository(database_for(settings)))
