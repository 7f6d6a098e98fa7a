"""Bad input and ended executions leave the job `failed` with an error code, never stuck."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pagewise_client.api import PagewiseClient
from pymongo import MongoClient

from tests.stack import (
    MONGODB_URI,
    aws_client,
    function_reconfigured,
    outputs,
    stack_client,
)

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"


def _client() -> PagewiseClient:
    return stack_client("integration-failures")


def _submit(client: PagewiseClient, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    created = client.create_job(path)
    client.upload(created["upload"], path)
    return str(created["job_id"])


def _wait_final(client: PagewiseClient, job_id: str) -> dict[str, Any]:
    return client.wait(job_id, timeout_seconds=120, interval=0.3)["details"]


def test_a_file_that_is_not_a_document_fails_at_ingest(tmp_path: Path) -> None:
    client = _client()
    # The policy pins the declared Content-Type, not the bytes: Ingest checks those.
    job_id = _submit(client, tmp_path, "notes.pdf", b"just some text, not a PDF at all\n")
    details = _wait_final(client, job_id)
    assert details["processing_status"] == "failed"
    assert details["error_code"] == "unsupported_file_type"
    assert "not a PDF, PNG, JPEG or TIFF" in details["error_message"]
    history = [change["status"] for change in details["status_history"]]
    assert history == ["awaiting_upload", "failed"]


def test_a_broken_pdf_fails_in_prepare_with_a_clear_message(tmp_path: Path) -> None:
    client = _client()
    job_id = _submit(client, tmp_path, "broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 8)
    details = _wait_final(client, job_id)
    assert details["processing_status"] == "failed"
    assert details["error_code"] in ("corrupt_document", "empty_document")
    assert details["error_message"] and "Traceback" not in details["error_message"]
    # Prepare marks the job failed at once; the execution ends a moment later (MarkFailed).
    deadline = time.monotonic() + 30
    while (status := client.status(job_id))["workflow"]["state"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.3)
    assert status["workflow"]["state"] == "FAILED"
    assert status["download_url"] is None


@pytest.mark.parametrize(("status", "code"), [("ABORTED", "aborted"), ("TIMED_OUT", "timeout")])
def test_an_execution_ended_outside_the_catch_marks_the_job_failed_through_eventbridge(
    tmp_path: Path, status: str, code: str
) -> None:
    """The EventBridge rule and its MarkFailed target, with the event Step Functions sends."""
    client = _client()
    never_uploaded = tmp_path / "never-uploaded.pdf"
    never_uploaded.write_bytes(b"%PDF-1.7\n")
    created = client.create_job(never_uploaded)  # no upload, so no execution of its own
    job_id = created["job_id"]
    state_machine = outputs()["StateMachineArn"]
    detail = {
        "executionArn": state_machine.replace(":stateMachine:", ":execution:") + f":{job_id}",
        "stateMachineArn": state_machine,
        "name": job_id,
        "status": status,
    }
    aws_client("events").put_events(
        Entries=[
            {
                "Source": "aws.states",
                "DetailType": "Step Functions Execution Status Change",
                "Detail": json.dumps(detail),
            }
        ]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        details = client.status(job_id)["details"]
        if details["processing_status"] == "failed":
            break
        time.sleep(0.5)
    assert details["processing_status"] == "failed"
    assert details["error_code"] == code


def test_an_upload_that_never_came_fails_as_upload_expired(tmp_path: Path) -> None:
    client = _client()
    never_uploaded = tmp_path / "never-uploaded.pdf"
    never_uploaded.write_bytes(b"%PDF-1.7\n")
    job_id = client.create_job(never_uploaded)["job_id"]
    assert client.status(job_id)["details"]["processing_status"] == "awaiting_upload"
    # Created 21 minutes ago: past the link's 15 minutes and the 5 minutes of grace.
    long_ago = datetime.now(UTC) - timedelta(minutes=21)
    MongoClient(MONGODB_URI)["pagewise"].original_files.update_one(
        {"_id": ObjectId(job_id)}, {"$set": {"created_at": long_ago}}
    )
    details = client.status(job_id)["details"]
    assert details["processing_status"] == "failed"
    assert details["error_code"] == "upload_expired"
    assert "15 minutes" in details["error_message"]


def test_a_step_that_crashes_fails_the_job_as_internal_error(tmp_path: Path) -> None:
    """Prepare's process dies on start (its settings are invalid): the Catch marks the job
    failed with internal_error and a message that names no internals."""
    client = _client()
    with function_reconfigured("PrepareFunction", environment={"MAX_PAGES": "0"}):
        job_id = _submit(client, tmp_path, "crash.pdf", SAMPLE.read_bytes())
        details = _wait_final(client, job_id)
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == "internal_error"
    assert details["error_message"].startswith("Processing failed unexpectedly")
    assert "MAX_PAGES" not in details["error_message"]
