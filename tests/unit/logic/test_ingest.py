"""Ingest: an upload event queues its job and starts one execution, whatever the duplicates."""

from __future__ import annotations

from typing import Any

import boto3
from pagewise.data.jobs import JobRepository
from pagewise.data.storage import DocumentStore
from pagewise.data.workflow import Workflow
from pagewise.logic.ingest import accept_upload, parse_upload_key
from pagewise.models import JobStatus
from pymongo.database import Database

from tests.unit.builders import a_job

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _parts(db: Database[dict[str, Any]], aws: dict[str, str]) -> tuple[Any, ...]:
    return JobRepository(db), DocumentStore(aws["bucket"]), Workflow(aws["state_machine_arn"])


def _executions(aws: dict[str, str]) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=aws["state_machine_arn"])["executions"])


def test_parse_upload_key_reads_tenant_and_job() -> None:
    assert parse_upload_key("uploads/alice/abc/my+file.pdf") == ("alice", "abc")
    assert parse_upload_key("uploads/alice/abc/my%20file.pdf") == ("alice", "abc")
    assert parse_upload_key("outputs/alice/abc/x.pdf") is None
    assert parse_upload_key("uploads/alice/x.pdf") is None


def test_an_upload_queues_the_job_and_starts_one_execution_named_by_it(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    jobs, store, workflow = _parts(db, aws)
    job = a_job()
    jobs.insert(job)
    store.write(job.upload_key, PDF, "application/pdf")

    outcome = accept_upload(job.upload_key, jobs, store, workflow, 1_000_000)
    assert outcome.action == "started"
    stored = jobs.get(job.job_id)
    assert stored is not None and stored.processing_status == JobStatus.QUEUED
    assert stored.execution_arn and stored.execution_arn.endswith(f":{job.job_id}")
    assert [execution["name"] for execution in _executions(aws)] == [job.job_id]

    again = accept_upload(job.upload_key, jobs, store, workflow, 1_000_000)  # duplicate event
    assert again.action == "started"
    assert len(_executions(aws)) == 1
    assert jobs.get(job.job_id).processing_status == JobStatus.QUEUED  # type: ignore[union-attr]


def test_bytes_that_are_no_document_fail_the_job_without_an_execution(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    jobs, store, workflow = _parts(db, aws)
    job = a_job()
    jobs.insert(job)
    store.write(job.upload_key, b"plain text pretending to be a PDF", "application/pdf")
    outcome = accept_upload(job.upload_key, jobs, store, workflow, 1_000_000)
    assert outcome.action == "rejected"
    stored = jobs.get(job.job_id)
    assert stored is not None and stored.processing_status == JobStatus.FAILED
    assert stored.error_code == "unsupported_file_type"
    assert _executions(aws) == []


def test_empty_and_oversized_uploads_fail_with_their_codes(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    jobs, store, workflow = _parts(db, aws)
    empty, big = a_job(), a_job()
    for job, content in ((empty, b""), (big, PDF * 100)):
        jobs.insert(job)
        store.write(job.upload_key, content, "application/pdf")
        accept_upload(job.upload_key, jobs, store, workflow, 1_000)
    assert jobs.get(empty.job_id).error_code == "empty_document"  # type: ignore[union-attr]
    assert jobs.get(big.job_id).error_code == "file_too_large"  # type: ignore[union-attr]
    assert _executions(aws) == []


def test_unknown_foreign_and_final_jobs_are_ignored(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    jobs, store, workflow = _parts(db, aws)
    failed = a_job(status=JobStatus.FAILED)
    jobs.insert(failed)
    store.write(failed.upload_key, PDF, "application/pdf")
    foreign_key = failed.upload_key.replace("uploads/alice/", "uploads/mallory/")
    store.write(foreign_key, PDF, "application/pdf")
    for key in (failed.upload_key, foreign_key, "uploads/alice/0123456789abcdef01234567/x.pdf"):
        assert accept_upload(key, jobs, store, workflow, 1_000_000).action == "ignored"
    assert accept_upload("outputs/x/y/z.pdf", jobs, store, workflow, 1).action == "ignored"
    assert _executions(aws) == []
