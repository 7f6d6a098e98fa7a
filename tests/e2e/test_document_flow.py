"""A real document through the deployed stack, exactly as a client does it.

API Gateway -> ApiFunction -> presigned POST to S3 -> SQS -> Ingest -> Step Functions ->
Prepare, OcrPage (text layer and Tesseract), TranslatePage, Summarise, Render, Finish;
then the download, and a second tenant who must not see the job.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import requests
from pagewise_client.api import PagewiseClient

from tests.stack import STATUS_ORDER, require_stack, stack_client, tenant_token
from tests.support.tools import commands, installed

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"
# A phrase of each page of the sample: page 1 has a text layer, page 2 is a scan.
PAGE_PHRASES = {1: "calle Mayor 5", 2: "juzgados de Madrid"}


@pytest.fixture(scope="module")
def finished_job(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_stack()
    client = stack_client("e2e-alice")
    started = time.monotonic()
    created = client.create_job(SAMPLE, client_name="e2e", report_id="R-1")
    assert created["status"] == "awaiting_upload"
    client.upload(created["upload"], SAMPLE)
    observed: list[str] = []

    def remember(status: dict[str, Any]) -> None:
        name = status["details"]["processing_status"]
        if not observed or observed[-1] != name:
            observed.append(name)

    final = client.wait(created["job_id"], timeout_seconds=300, on_change=remember, interval=0.2)
    elapsed = time.monotonic() - started
    pdf_path = client.download(
        created["job_id"], tmp_path_factory.mktemp("download") / "translated.pdf"
    )
    return {
        "client": client,
        "job_id": created["job_id"],
        "final": final,
        "observed": observed,
        "pdf": pdf_path,
        "seconds": elapsed,
    }


def test_the_job_completes(finished_job: dict[str, Any]) -> None:
    details = finished_job["final"]["details"]
    assert details["processing_status"] == "completed", details
    assert details["error_code"] is None
    assert details["total_pages"] == 2
    assert details["current_page"] == 2
    assert details["summary"]
    # The job is completed when Finish writes it; the execution ends a moment later (Finish
    # returning, then the notification step), so poll the workflow view until it settles.
    client: PagewiseClient = finished_job["client"]
    deadline = time.monotonic() + 60
    workflow = finished_job["final"]["workflow"]
    while not workflow["ready"] and time.monotonic() < deadline:
        time.sleep(0.5)
        workflow = client.status(finished_job["job_id"])["workflow"]
    assert workflow["state"] == "SUCCEEDED" and workflow["succeeded"] and workflow["ready"]
    assert workflow["execution_arn"].endswith(f":{finished_job['job_id']}")
    print(f"\ne2e job: {finished_job['seconds']:.1f}s from create to completed")


def test_the_statuses_come_in_order(finished_job: dict[str, Any]) -> None:
    history = [change["status"] for change in finished_job["final"]["details"]["status_history"]]
    assert history == STATUS_ORDER
    # What a polling client saw is a subsequence of that order, ending in completed.
    observed = finished_job["observed"]
    positions = [STATUS_ORDER.index(name) for name in observed]
    assert positions == sorted(positions)
    assert observed[-1] == "completed"


def test_the_result_records_each_page_source(finished_job: dict[str, Any]) -> None:
    result = finished_job["client"].result(finished_job["job_id"])
    pages = {page["page"]: page for page in result["page_results"]}
    assert pages[1]["source"] == "text_layer"
    assert pages[2]["source"] == "ocr"
    # The scan was read in process by the OCR layer's engine, which /result names.
    assert pages[1]["ocr_engine"] is None
    assert pages[2]["ocr_engine"].startswith("tesserocr 2.13.0 / tesseract 5."), pages[2]
    for number, phrase in PAGE_PHRASES.items():
        assert phrase in " ".join(pages[number]["ocr_text"].split())
    assert result["summary"]
    assert "Page 1" in result["ai_report_content"]


def test_the_downloaded_pdf_has_each_page_text(finished_job: dict[str, Any]) -> None:
    with pymupdf.open(finished_job["pdf"]) as document:
        text = " ".join(" ".join(page.get_text() for page in document).split())
    assert "Page 1" in text and "Page 2" in text
    # After the cover, whose key facts quote both pages (issue 17).
    body = text[text.index("Page 1 Source:") :]
    positions = [body.index(phrase) for phrase in PAGE_PHRASES.values()]
    assert positions == sorted(positions)  # page 1's text comes before page 2's


@installed(commands("pdftoppm"), "poppler-utils")
def test_the_download_is_a_named_pdf(finished_job: dict[str, Any]) -> None:
    client: PagewiseClient = finished_job["client"]
    response = requests.get(
        f"{client.base_url}/api/v1/jobs/{finished_job['job_id']}/download",
        headers={"Authorization": f"Bearer {client.token}"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 307
    pdf = requests.get(response.headers["Location"], timeout=30)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert "contrato-2-paginas_translated.pdf" in pdf.headers.get("Content-Disposition", "")


def test_another_tenant_gets_404(finished_job: dict[str, Any]) -> None:
    base = finished_job["client"].base_url
    headers = {"Authorization": f"Bearer {tenant_token('e2e-mallory')}"}
    job_id = finished_job["job_id"]
    for path in ("", "/download", "/result"):
        response = requests.get(
            f"{base}/api/v1/jobs/{job_id}{path}",
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        assert response.status_code == 404, path
        assert response.json()["error_code"] == "not_found"
    listed = requests.get(f"{base}/api/v1/jobs", headers=headers, timeout=30).json()
    assert job_id not in {job["job_id"] for job in listed["jobs"]}


def test_no_token_is_401(finished_job: dict[str, Any]) -> None:
    response = requests.get(
        f"{finished_job['client'].base_url}/api/v1/jobs/{finished_job['job_id']}", timeout=30
    )
    assert response.status_code == 401
