"""DocumentStore.delete_prefix on moto S3: every object under the prefix, across listing
pages, and nothing beside it; and deleting a job removes its work/{job_id}/ objects.
DocumentStore.read_again: a warm OcrPage environment reads the upload once for all the pages
it serves (a conditional GET answers 304 without the body), never a stale copy."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from pagewise.data.layouts import layout_key
from pagewise.data.results import report_key
from pagewise.data.storage import DocumentStore, work_prefix
from pagewise.models import JobStatus
from pymongo.database import Database

from tests.unit.builders import a_job, a_job_service


def _keys(bucket: str) -> set[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_delete_prefix_deletes_every_page_of_the_listing_and_nothing_else(
    aws: dict[str, str],
) -> None:
    store = DocumentStore(aws["bucket"])
    # More than one listing page (1,000 keys) and one batch delete (1,000 keys).
    doomed = {f"work/job-1/layout/page-{page:05d}.json" for page in range(1, 1004)}
    kept = {"work/job-10/report.txt", "uploads/alice/job-1/contract.pdf"}
    for key in doomed | kept:
        store.write(key, b"{}", "application/json")

    assert store.delete_prefix(work_prefix("job-1")) == len(doomed)

    assert _keys(aws["bucket"]) == kept
    assert store.delete_prefix(work_prefix("job-1")) == 0


def test_delete_prefix_refuses_an_empty_prefix(aws: dict[str, str]) -> None:
    store = DocumentStore(aws["bucket"])
    store.write("work/job-1/report.txt", b"text", "text/plain")
    with pytest.raises(ValueError):
        store.delete_prefix("")
    assert _keys(aws["bucket"]) == {"work/job-1/report.txt"}


def test_deleting_a_job_deletes_its_intermediate_objects(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    service = a_job_service(db, aws, upload_max_bytes=1_000_000)
    job, other = a_job(status=JobStatus.COMPLETED), a_job(status=JobStatus.COMPLETED)
    for each in (job, other):
        service.jobs.insert(each)
        for key in (
            each.upload_key,
            layout_key(each.job_id, 1),
            layout_key(each.job_id, 2),
            report_key(each.job_id),
            f"{work_prefix(each.job_id)}anything-else.bin",
        ):
            service.store.write(key, b"x", "application/octet-stream")

    assert service.cancel_or_delete(job) == "deleted"

    remaining = _keys(aws["bucket"])
    assert not {key for key in remaining if key.startswith(work_prefix(job.job_id))}
    assert job.upload_key not in remaining
    assert {key for key in remaining if key.startswith(work_prefix(other.job_id))} == {
        layout_key(other.job_id, 1),
        layout_key(other.job_id, 2),
        report_key(other.job_id),
        f"{work_prefix(other.job_id)}anything-else.bin",
    }
    service.cancel_or_delete(other)
    assert _keys(aws["bucket"]) == set()


def test_read_again_transfers_the_body_once_and_never_serves_a_changed_object(
    aws: dict[str, str],
) -> None:
    client = boto3.client("s3")
    statuses: list[int] = []

    def answered(http_response: Any, **_: Any) -> None:
        statuses.append(http_response.status_code)

    client.meta.events.register("after-call.s3.GetObject", answered)
    store = DocumentStore(aws["bucket"], client=client)
    store.write("uploads/alice/job/doc.pdf", b"%PDF first", "application/pdf")

    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF first"
    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF first"
    assert statuses == [200, 304]  # the second page's read carried no body

    store.write("uploads/alice/job/doc.pdf", b"%PDF second", "application/pdf")
    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF second"
    store.write("uploads/alice/other/doc.pdf", b"%PDF other", "application/pdf")
    assert store.read_again("uploads/alice/other/doc.pdf") == b"%PDF other"
    assert statuses == [200, 304, 200, 200]


def test_read_again_of_an_unchanging_copy_asks_s3_once_per_document(aws: dict[str, str]) -> None:
    client = boto3.client("s3")
    calls: list[str] = []
    client.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda params, **_: calls.append(params["Key"])
    )
    store = DocumentStore(aws["bucket"], client=client)
    store.write("work/job/source", b"%PDF checked", "application/pdf")
    store.write("work/other/source", b"%PDF other", "application/pdf")

    pages = [store.read_again("work/job/source", unchanging=True) for _ in range(3)]
    other = store.read_again("work/other/source", unchanging=True)

    assert pages == [b"%PDF checked"] * 3 and other == b"%PDF other"
    assert calls == ["work/job/source", "work/other/source"]  # no request for pages 2 and 3


def test_only_the_checked_copy_of_an_upload_counts_as_unchanging() -> None:
    queued = a_job(status=JobStatus.QUEUED).model_copy(update={"source_key": "work/j/source"})
    assert queued.document_key == "work/j/source" and queued.document_unchanging
    older = a_job(status=JobStatus.QUEUED).model_copy(update={"source_key": None})
    assert older.document_key == older.upload_key and not older.document_unchanging
