"""Notifications through the deployed stack: a job created with a token carrying an `email`
claim and a `callback_url` on a local receiver that answers 500 first (so SQS redelivers and
the retry path runs for real), then 200. One completed job (a born-digital page: no OCR) and
one failed job (bytes that are no document, rejected at ingest), run together."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import requests
import standardwebhooks
from pagewise.logic.notifications import SIGNATURE_HEADER, receiver_secret, verify
from pagewise_client.api import PagewiseClient
from pagewise_client.local import LOCAL_NOTIFY_FROM, LOCAL_WEBHOOK_SECRET

from tests.stack import LOCALSTACK, outputs, require_stack, stack_client

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 180


@dataclass
class Receiver:
    """Answers 500 to the first POST on each path, 200 afterwards; keeps every request."""

    base_url: str = ""
    calls: dict[str, list[tuple[int, bytes, dict[str, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            seen = self.calls.setdefault(path, [])
            code = 500 if not seen else 200
            seen.append((code, body, headers))
            return code

    def wait_delivered(self, path: str) -> list[tuple[int, bytes, dict[str, str]]]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                calls = list(self.calls.get(path, []))
            if calls and calls[-1][0] == 200:
                return calls
            time.sleep(0.2)
        raise AssertionError(f"webhook {path} never delivered: {calls}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            code = state.answer(self.path, body, dict(self.headers))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Jobs:
    client: PagewiseClient
    email: str
    completed: dict[str, Any]
    failed: dict[str, Any]


def _born_digital_pdf(path: Path) -> Path:
    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((72, 72), "Contrato de arrendamiento. El arrendatario pagará la renta.")
    document.save(path)
    return path


@pytest.fixture(scope="module")
def jobs(receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    require_stack()
    tag = uuid.uuid4().hex[:8]
    email = f"notify-{tag}@example.com"
    client = stack_client(f"e2e-notify-{tag}", email=email, email_verified=True)
    folder = tmp_path_factory.mktemp("notify")
    good = _born_digital_pdf(folder / f"aviso-{tag}.pdf")
    bad = folder / f"not-a-document-{tag}.pdf"
    bad.write_bytes(b"these bytes are no PDF and no image at all\n" * 10)
    created = {
        name: client.create_job(path, callback_url=f"{receiver.base_url}/hook/{name}")
        for name, path in (("completed", good), ("failed", bad))
    }
    client.upload(created["completed"]["upload"], good)
    client.upload(created["failed"]["upload"], bad)
    finals = {
        name: client.wait(job["job_id"], timeout_seconds=WAIT_SECONDS)
        for name, job in created.items()
    }
    return Jobs(client, email, finals["completed"], finals["failed"])


def _check_webhook(receiver: Receiver, path: str, job: dict[str, Any]) -> dict[str, Any]:
    calls = receiver.wait_delivered(path)
    assert [code for code, _, _ in calls][:2] == [500, 200]  # the 500 was retried by SQS
    _, body, headers = calls[-1]
    # Standard Webhooks, checked with its own library, and the older header.
    standardwebhooks.Webhook(receiver_secret(LOCAL_WEBHOOK_SECRET)).verify(body, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(receiver_secret("another-secret")).verify(body, headers)
    assert verify(LOCAL_WEBHOOK_SECRET, body, headers[SIGNATURE_HEADER])
    assert not verify("another-secret", body, headers[SIGNATURE_HEADER])
    assert headers["Content-Type"] == "application/json"
    payload: dict[str, Any] = json.loads(body)
    assert payload["job_id"] == job["job_id"]
    assert payload["status"] == job["details"]["processing_status"]
    assert payload["status_url"] == f"{outputs()['ApiUrl']}/api/v1/jobs/{job['job_id']}"
    return payload


def test_a_completed_job_calls_its_webhook_signed_after_a_retry(
    jobs: Jobs, receiver: Receiver
) -> None:
    assert jobs.completed["details"]["processing_status"] == "completed"
    payload = _check_webhook(receiver, "/hook/completed", jobs.completed)
    assert payload["event"] == "job.completed"
    assert payload["total_pages"] == 1 and payload["error_code"] is None
    assert payload["completed_at"] and payload["download_url"].endswith("/download")
    # The webhook's 500 changed nothing about the job.
    status = jobs.client.status(jobs.completed["job_id"])
    assert status["details"]["processing_status"] == "completed"


def test_a_failed_job_calls_its_webhook_with_the_error(jobs: Jobs, receiver: Receiver) -> None:
    assert jobs.failed["details"]["processing_status"] == "failed"
    payload = _check_webhook(receiver, "/hook/failed", jobs.failed)
    assert payload["event"] == "job.failed"
    assert payload["error_code"] == "unsupported_file_type"
    assert payload["error_message"] and payload["download_url"] is None


def _ses_enabled() -> bool:
    health = requests.get(f"{LOCALSTACK}/_localstack/health", timeout=10).json()
    return health["services"].get("ses") in ("running", "available")


def test_both_jobs_email_their_creator(jobs: Jobs) -> None:
    if not _ses_enabled():
        pytest.skip(
            "LocalStack runs without SES (started before `ses` joined SERVICES in "
            "localstack/stack.sh): restart the stack (make down && make up)"
        )
    wanted = {jobs.completed["job_id"]: "completed", jobs.failed["job_id"]: "failed"}
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        messages = requests.get(
            f"{LOCALSTACK}/_aws/ses", params={"email": LOCAL_NOTIFY_FROM}, timeout=10
        ).json()["messages"]
        mine = [m for m in messages if jobs.email in m["Destination"]["ToAddresses"]]
        if len(mine) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(mine) == 2, mine  # one each: redeliveries for the webhook did not re-send
    for job_id, status in wanted.items():
        (message,) = [m for m in mine if job_id in m["Body"]["text_part"]]
        file_name = jobs.client.status(job_id)["details"]["file_name"]
        # The subject names the job, not the uploader's file name; the body quotes that.
        assert message["Subject"] == f"Pagewise: job {job_id} {status}"
        assert f'Document: "{file_name}"' in message["Body"]["text_part"]
        assert message["Source"] == LOCAL_NOTIFY_FROM
