"""Builders of jobs and tokens for the api, logic, data and handlers unit tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pagewise.data.glossaries import GlossaryRepository
from pagewise.data.jobs import JobRepository, new_job_id
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.data.workflow import Workflow
from pagewise.documents.layout import Block, Box, Line, PageLayout, Word
from pagewise.logic.jobs import JobService
from pagewise.logic.keys import upload_key
from pagewise.logic.pipeline import Pipeline
from pagewise.models import Job, JobStatus
from pagewise.settings import ApiSettings, JwtSettings, PipelineSettings
from pymongo.database import Database

SECRET = "unit-test-secret-of-a-decent-length-1234"
ISSUER = "https://issuer.test/"
AUDIENCE = "pagewise-unit"


def a_job(
    tenant: str = "alice", status: JobStatus = JobStatus.AWAITING_UPLOAD, **fields: Any
) -> Job:
    job_id = fields.pop("job_id", new_job_id())
    now = fields.pop("created_at", datetime.now(UTC))
    return Job(
        job_id=job_id,
        tenant=tenant,
        file_name=fields.pop("file_name", "contract.pdf"),
        content_type="application/pdf",
        file_size=100,
        upload_key=upload_key(tenant, job_id, "contract.pdf"),
        processing_status=status,
        created_at=now,
        updated_at=now,
        **fields,
    )


def a_token(
    subject: str | None = "alice", secret: str = SECRET, algorithm: str = "HS256", **claims: Any
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    if subject is not None:
        payload["sub"] = subject
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=algorithm)


def later(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def api_settings(aws: dict[str, str], **environment: str) -> ApiSettings:
    """The API's settings against the ``aws`` fixture's bucket and state machine."""
    return ApiSettings.model_validate(
        {
            "MONGODB_URI": "mongodb://unused",
            "UPLOADS_BUCKET": aws["bucket"],
            "STATE_MACHINE_ARN": aws["state_machine_arn"],
            **environment,
        }
    )


def hs256_settings(**environment: str) -> JwtSettings:
    """JWT settings that accept :func:`a_token`'s tokens."""
    return JwtSettings.model_validate(
        {
            "JWT_ALGORITHMS": "HS256",
            "JWT_SECRET": SECRET,
            "JWT_ISSUER": ISSUER,
            "JWT_AUDIENCE": AUDIENCE,
            **environment,
        }
    )


def a_job_service(
    db: Database[dict[str, Any]],
    aws: dict[str, str],
    *,
    upload_max_bytes: int,
    retention_days: int = 0,
    max_active_jobs_per_tenant: int = 10,
) -> JobService:
    """The API's job service on the unit tests' MongoDB and moto."""
    return JobService(
        jobs=JobRepository(db),
        pages=PageRepository(db),
        results=ResultRepository(db),
        store=DocumentStore(aws["bucket"]),
        workflow=Workflow(aws["state_machine_arn"]),
        upload_max_bytes=upload_max_bytes,
        upload_expiry_seconds=900,
        download_expiry_seconds=60,
        retention_days=retention_days,
        max_active_jobs_per_tenant=max_active_jobs_per_tenant,
        glossaries=GlossaryRepository(db),
    )


def a_pipeline(
    db: Database[dict[str, Any]], mongo_uri: str, bucket: str, **environment: str
) -> Pipeline:
    """The pipeline every state test runs: SecantusDB, moto's bucket, the offline provider
    unless ``environment`` names an LLM."""
    settings = PipelineSettings.model_validate(
        {"MONGODB_URI": mongo_uri, "UPLOADS_BUCKET": bucket, **environment}
    )
    return Pipeline(
        settings, JobRepository(db), PageRepository(db), ResultRepository(db),
        DocumentStore(bucket),
    )  # fmt: skip


def a_job_run_through(
    pipeline: Pipeline,
    document: bytes,
    *,
    content_type: str = "application/pdf",
    until: str = "finish",
    **job_fields: Any,
) -> str:
    """A queued job of ``document`` run through the states as the state machine runs them
    (every page of each Map), from Prepare to ``until`` (``summarise``, ``render`` or
    ``finish``) included; its id."""
    job = a_job(status=JobStatus.QUEUED, **job_fields)
    pipeline.store.write(job.upload_key, document, content_type)
    pipeline.jobs.insert(job)
    pages = range(1, pipeline.prepare(job.job_id).total_pages + 1)
    for page in pages:
        pipeline.ocr_page(job.job_id, page)
    for page in pages:
        pipeline.translate_page(job.job_id, page)
    pipeline.summarise(job.job_id)
    if until in ("render", "finish"):
        pipeline.render(job.job_id)
    if until == "finish":
        pipeline.finish(job.job_id)
    return job.job_id


def a_layout(*texts: str, page: int = 1) -> PageLayout:
    """A text-layer page of one block per text (ids b1, b2, ...), one line each, stacked."""
    blocks = []
    for index, text in enumerate(texts, start=1):
        box = Box(x0=60, y0=60 * index, x1=500, y1=60 * index + 40)
        line = Line(box=box, words=[Word(text=word, box=box) for word in text.split()])
        blocks.append(Block(id=f"b{index}", box=box, lines=[line]))
    return PageLayout(page=page, width=595, height=842, source="text_layer", blocks=blocks)
