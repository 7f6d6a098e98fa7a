"""Bad input and ended executions leave the job `failed` with an error code, never stuck."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pagewise_client.api import PagewiseClient

from tests.stack import aws_client, outputs, stack_client


def _submit(client: PagewiseClient, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    created = client.create_job(path)
    client.upload(created["upload"], path)
    return str(created["job_id"])


def _wait_final(client: PagewiseClient, job_id: str) -> dict[str, Any]:
    return client.wait(job_id, timeout_seconds=120, interval=0.3)["details"]


def test_a_file_that_is_not_a_document_fails_at_ingest(tmp_path: Path) -> None:
    client = stack_client("integration-failures")
    # The policy pins the declared Content-Type, not the bytes: Ingest checks those.
    job_id = _submit(client, tmp_path, "notes.pdf", b"just some text, not a PDF at all\n")
    details = _wait_final(client, job_id)
    assert details["processing_status"] == "failed"
    assert details["error_code"] == "unsupported_file_type"
    assert "not a PDF, PNG, JPEG or TIFF" in details["error_message"]
    history = [change["status"] for change in details["status_history"]]
    assert history == ["awaiting_upload", "failed"]


def test_a_broken_pdf_fails_in_prepare_with_a_clear_message(tmp_path: Path) -> None:
    client = stack_client("integration-failures")
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


def test_an_aborted_execution_marks_the_job_failed_through_eventbridge(tmp_path: Path) -> None:
    """The EventBridge rule and its MarkFailed target, with the event Step Functions sends."""
    client = stack_client("integration-failures")
    never_uploaded = tmp_path / "never-uploaded.pdf"
    never_uploaded.write_bytes(b"%PDF-1.7\n")
    created = client.create_job(never_uploaded)  # no upload, so no execution of its own
    job_id = created["job_id"]
    state_machine = outputs()["StateMachineArn"]
    detail = {
        "executionArn": state_machine.replace(":stateMachine:", ":execution:") + f":{job_id}",
        "stateMachineArn": state_machine,
        "name": job_id,
        "status": "ABORTED",
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
    assert details["error_code"] == "aborted"
