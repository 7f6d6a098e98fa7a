"""A job's result stored once and read in pages: page texts live in page_results only,
ai_extracted_content refers to them, the report text is in S3, and /result comes in slices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf
import pytest
from fastapi.testclient import TestClient
from pagewise.data.results import report_key
from pagewise.data.workflow import Workflow
from pagewise.logic.jobs import JobService
from pagewise.logic.pipeline import Pipeline
from pagewise.logic.results import (
    MAX_PAGE_TEXT_CHARS,
    clip_text,
    lambda_payload_bytes,
    result_page,
)
from pagewise.models import JobStatus
from pagewise_api.main import create_app
from pymongo.database import Database

from tests.unit.builders import (
    a_job,
    a_job_run_through,
    a_pipeline,
    a_token,
    api_settings,
    hs256_settings,
)

PAGES = 5


def _phrase(page: int) -> str:
    return f"Clausula {page}: el arrendatario pagara la renta del mes {page} en Madrid."


@pytest.fixture
def pipeline(db: Database[dict[str, Any]], mongo_uri: str, aws: dict[str, str]) -> Pipeline:
    return a_pipeline(db, mongo_uri, aws["bucket"])


@pytest.fixture
def service(pipeline: Pipeline, aws: dict[str, str]) -> JobService:
    return JobService(
        jobs=pipeline.jobs,
        pages=pipeline.pages,
        results=pipeline.results,
        store=pipeline.store,
        workflow=Workflow(aws["state_machine_arn"]),
        upload_max_bytes=1_000_000,
        upload_expiry_seconds=900,
        download_expiry_seconds=60,
    )


@pytest.fixture
def finished(pipeline: Pipeline, tmp_path: Path) -> str:
    """A born-digital job of PAGES pages through every pipeline state, as the Maps run it."""
    document = pymupdf.open()
    for number in range(1, PAGES + 1):
        document.new_page().insert_text((72, 72), _phrase(number))
    path = tmp_path / "contrato.pdf"
    document.save(path)
    return a_job_run_through(pipeline, path.read_bytes())


def test_each_page_text_is_stored_once_and_the_result_refers_to_it(
    finished: str, pipeline: Pipeline, db: Database[dict[str, Any]]
) -> None:
    stored = db.ai_extracted_content.find_one({"document_id": finished})
    assert stored is not None
    assert "page_results" not in stored and "ai_report_content" not in stored
    assert stored["page_count"] == PAGES
    assert stored["page_results_ref"] == {"collection": "page_results", "job_id": finished}
    # Each page's text is in its own page_results document and nowhere else (the summary and
    # its cited form with the key facts' quotes, which quote sentences, are the document's own
    # text).
    beside_summary = str(
        {key: value for key, value in stored.items() if key not in ("summary", "summary_cited")}
    )
    for page in range(1, PAGES + 1):
        phrase = f"renta del mes {page} "
        holders = [doc["page"] for doc in db.page_results.find() if phrase in str(doc)]
        assert holders == [page]
        assert phrase not in beside_summary
    # The report text (the PDF's body) is in S3 beside the job's other work files.
    assert stored["ai_report_key"] == report_key(finished) == f"work/{finished}/report.txt"
    report = pipeline.store.read(stored["ai_report_key"]).decode()
    assert all(f"Page {page}" in report for page in range(1, PAGES + 1))


def test_a_document_within_the_page_size_comes_whole_as_before(
    finished: str, service: JobService, pipeline: Pipeline
) -> None:
    job = pipeline.jobs.get(finished)
    assert job is not None
    result = service.result(job)
    assert result is not None
    assert [page.page for page in result.page_results] == list(range(1, PAGES + 1))
    assert "renta del mes 2" in (result.page_results[1].ocr_text or "")
    assert result.ai_report_content == pipeline.store.read(report_key(finished)).decode()
    assert result.summary and result.llm_usage and result.summary_method
    assert (result.total_pages, result.page_from, result.next_page_from) == (PAGES, 1, None)


def test_a_longer_document_comes_in_slices(
    finished: str, service: JobService, pipeline: Pipeline
) -> None:
    job = pipeline.jobs.get(finished)
    assert job is not None
    seen: list[int] = []
    page_from: int | None = 1
    while page_from is not None:
        result = service.result(job, page_from=page_from, page_size=2)
        assert result is not None
        assert len(result.page_results) <= 2
        # Not the whole document: the report text (the pages again) is left out.
        assert result.ai_report_content is None
        seen += [page.page for page in result.page_results]
        page_from = result.next_page_from
    assert seen == list(range(1, PAGES + 1))


def test_the_route_links_the_next_slice(
    finished: str, service: JobService, aws: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {a_token('alice')}"}
    with TestClient(create_app(api_settings(aws), hs256_settings(), service)) as client:
        first = client.get(f"/api/v1/jobs/{finished}/result?page_size=3", headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert [page["page"] for page in body["page_results"]] == [1, 2, 3]
        assert body["next"] == f"/api/v1/jobs/{finished}/result?page_from=4&page_size=3"
        second = client.get(body["next"], headers=headers).json()
        assert [page["page"] for page in second["page_results"]] == [4, 5]
        assert second["next"] is None
        assert "tenant" not in second
        too_big = client.get(f"/api/v1/jobs/{finished}/result?page_size=1000", headers=headers)
        assert too_big.status_code == 422


def _stored_page(page: int, text: str) -> dict[str, Any]:
    return {"page": page, "ocr_text": text, "legal_english": text, "plain_english": text}


def test_a_slice_stops_at_the_byte_budget_but_always_holds_a_page() -> None:
    pages = [_stored_page(page, "x" * 10_000) for page in range(1, 11)]
    one_page = lambda_payload_bytes(_stored_page(1, "x" * 10_000))
    stored = {"document_id": "d", "page_count": 10}
    result = result_page(
        stored, pages, page_from=1, page_size=10, read_report=lambda: "r", budget=3 * one_page
    )
    assert [page.page for page in result.page_results] == [1, 2]
    assert result.next_page_from == 3
    tiny = result_page(stored, pages, page_from=1, page_size=10, read_report=lambda: "", budget=1)
    assert [page.page for page in tiny.page_results] == [1] and tiny.next_page_from == 2


def test_a_result_stored_before_paging_is_still_served(
    service: JobService, pipeline: Pipeline, db: Database[dict[str, Any]]
) -> None:
    job = a_job(status=JobStatus.COMPLETED)
    pipeline.jobs.insert(job)
    # The old shape: every page's texts and the report text inside the document.
    db.ai_extracted_content.insert_one(
        {
            "document_id": job.job_id,
            "tenant": job.tenant,
            "page_results": [_stored_page(page, f"old page {page}") for page in (1, 2, 3)],
            "ai_report_content": "Page 1 ...",
            "summary": "old",
        }
    )
    whole = service.result(job)
    assert whole is not None
    assert [page.ocr_text for page in whole.page_results] == [
        "old page 1",
        "old page 2",
        "old page 3",
    ]
    assert whole.ai_report_content == "Page 1 ..."
    sliced = service.result(job, page_from=2, page_size=1)
    assert sliced is not None
    assert [page.page for page in sliced.page_results] == [2] and sliced.next_page_from == 3


def test_a_page_text_over_the_limit_is_clipped_and_says_so() -> None:
    assert clip_text("short") == "short"
    clipped = clip_text("y" * (MAX_PAGE_TEXT_CHARS + 10))
    assert clipped is not None and len(clipped) == MAX_PAGE_TEXT_CHARS
    assert clipped.endswith("characters]") and "clipped" in clipped
