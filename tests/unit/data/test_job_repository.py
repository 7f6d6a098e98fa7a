"""Job state moves forward only, by compare-and-set; tenants never see each other's jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.models import STATUS_ORDER, JobStatus
from pymongo.database import Database

from tests.unit.builders import a_job


def test_a_job_moves_forward_through_every_status_in_order(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(status_history=[])
    jobs.insert(job)
    for status in STATUS_ORDER[1:]:
        moved = jobs.advance(job.job_id, status)
        assert moved is not None and moved.processing_status == status
    stored = jobs.get(job.job_id)
    assert stored is not None
    assert [change.status for change in stored.status_history] == list(STATUS_ORDER[1:])


def test_a_job_never_moves_backwards_or_twice(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(status=JobStatus.OCR_COMPLETED)
    jobs.insert(job)
    assert jobs.advance(job.job_id, JobStatus.OCR_STARTED) is None
    assert jobs.advance(job.job_id, JobStatus.OCR_COMPLETED) is None  # a duplicate writer
    assert jobs.get(job.job_id).processing_status == JobStatus.OCR_COMPLETED  # type: ignore[union-attr]


def test_completed_and_failed_are_final(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    done, failed = a_job(status=JobStatus.COMPLETED), a_job(status=JobStatus.FAILED)
    jobs.insert(done)
    jobs.insert(failed)
    assert jobs.fail(done.job_id, "timeout", "late") is None
    assert jobs.advance(failed.job_id, JobStatus.COMPLETED) is None
    assert jobs.fail(failed.job_id, "other", "twice") is None
    assert jobs.get(done.job_id).processing_status == JobStatus.COMPLETED  # type: ignore[union-attr]
    assert jobs.get(failed.job_id).error_code is None  # type: ignore[union-attr]


def test_fail_records_code_message_and_history(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(status=JobStatus.TRANSLATION_STARTED)
    jobs.insert(job)
    failed = jobs.fail(job.job_id, "ocr_failed", "Tesseract could not read page 2.")
    assert failed is not None
    assert failed.processing_status == JobStatus.FAILED
    assert (failed.error_code, failed.error_message) == (
        "ocr_failed",
        "Tesseract could not read page 2.",
    )
    assert failed.completed_at is not None
    assert failed.status_history[-1].status == JobStatus.FAILED


def test_progress_counters_never_go_down(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(status=JobStatus.OCR_STARTED)
    jobs.insert(job)
    assert jobs.raise_counter(job.job_id, "current_page", 3).current_page == 3  # type: ignore[union-attr]
    assert jobs.raise_counter(job.job_id, "current_page", 1).current_page == 3  # type: ignore[union-attr]


def test_another_tenant_and_malformed_ids_find_nothing(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(tenant="alice")
    jobs.insert(job)
    assert jobs.get_for_tenant(job.job_id, "alice") is not None
    assert jobs.get_for_tenant(job.job_id, "mallory") is None
    assert jobs.get_for_tenant("not-an-object-id", "alice") is None
    assert jobs.get_for_tenant("../../etc", "alice") is None
    assert not jobs.delete(job.job_id, "mallory")
    assert jobs.delete(job.job_id, "alice")


def test_listing_is_per_tenant_newest_first_with_a_cursor(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    base = a_job().created_at
    mine = [a_job(created_at=base + timedelta(seconds=i)) for i in range(5)]
    for job in [*mine, a_job(tenant="bob")]:
        jobs.insert(job)
    first = jobs.list_for_tenant("alice", 2, None)
    assert [job.job_id for job in first] == [mine[4].job_id, mine[3].job_id]
    rest = jobs.list_for_tenant("alice", 10, first[-1].created_at)
    assert [job.job_id for job in rest] == [mine[2].job_id, mine[1].job_id, mine[0].job_id]


def test_page_results_are_one_document_per_page(db: Database[dict[str, Any]]) -> None:
    pages = PageRepository(db)
    pages.save("job1", 2, source="ocr", ocr_text="two")
    pages.save("job1", 1, source="text_layer", ocr_text="one")
    pages.save("job1", 1, source="text_layer", ocr_text="one")  # a retried state
    pages.save("job1", 1, legal_english="ONE")
    assert pages.count_with("job1", "source") == 2
    assert pages.count_with("job1", "legal_english") == 1
    results = pages.all_for_job("job1")
    assert [(page.page, page.ocr_text, page.legal_english) for page in results] == [
        (1, "one", "ONE"),
        (2, "two", None),
    ]
