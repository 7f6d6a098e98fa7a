"""Builders of jobs and tokens for the core unit tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pagewise.data.jobs import new_job_id
from pagewise.models import Job, JobStatus

SECRET = "unit-test-secret-of-a-decent-length-1234"
ISSUER = "https://issuer.test/"
AUDIENCE = "pagewise-unit"
# The API's upload limit in the API tests (conftest's `api` fixture).
MAX_BYTES = 1_000_000


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
        upload_key=f"uploads/{tenant}/{job_id}/contract.pdf",
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
