"""A page whose step times out is retried by Step Functions; a page that keeps failing fails
the job, naming the page. Faults come through the OCR function's own OCR_DATA_DIR setting:
traineddata that are named pipes nobody writes to, so the engine hangs inside Tesseract's
own file loading (tests/support/hanging_tessdata.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pagewise_client.api import PagewiseClient

from tests.stack import execution_history, function_reconfigured, require_stack, stack_client
from tests.support.hanging_tessdata import hanging_tessdata, release_after_first_hang

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"  # page 2 is a scan: the engine runs
pytestmark = pytest.mark.integration


def _run_job(tenant: str) -> tuple[PagewiseClient, str, dict[str, Any]]:
    client = stack_client(tenant)
    created = client.create_job(SAMPLE)
    client.upload(created["upload"], SAMPLE)
    return client, created["job_id"], client.wait(created["job_id"], timeout_seconds=240)


def _failed_ocr_attempts(job_id: str) -> int:
    return sum(
        1
        for event in execution_history(job_id)
        if event["type"] in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut")
    )


def test_a_timed_out_page_is_retried_and_the_job_completes(tmp_path: Path) -> None:
    require_stack()
    tessdata = hanging_tessdata(tmp_path / "tessdata")
    with (
        function_reconfigured(
            "OcrPageFunction",
            environment={"OCR_DATA_DIR": str(tessdata)},
            # Long enough for a real OCR of the page on a loaded machine.
            timeout=15,
        ),
        release_after_first_hang(tessdata) as released,
    ):
        client, job_id, final = _run_job("faults-retry")
    assert released.is_set(), "no OCR attempt ever hung"
    assert final["details"]["processing_status"] == "completed", final["details"]
    assert _failed_ocr_attempts(job_id) >= 1
    client.cancel(job_id)  # deletes the finished job


def test_a_page_that_keeps_timing_out_fails_the_job_naming_it(tmp_path: Path) -> None:
    require_stack()
    tessdata = hanging_tessdata(tmp_path / "tessdata")
    with function_reconfigured(
        "OcrPageFunction", environment={"OCR_DATA_DIR": str(tessdata)}, timeout=5
    ):
        client, job_id, final = _run_job("faults-give-up")
    details = final["details"]
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == "timeout"
    assert details["error_message"] == "Page 2: A processing step ran out of time."
    assert _failed_ocr_attempts(job_id) >= 3  # the first attempt and two retries
    client.cancel(job_id)
