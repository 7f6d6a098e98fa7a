"""Notifications: the webhook signature, the callback URL guard, and delivery with fakes (the
job record on SecantusDB), the SQS hook with moto, the HTTP call against a local server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from pagewise.data.jobs import JobRepository
from pagewise.data.notifications import (
    HttpWebhookPoster,
    NotificationQueue,
    SesEmailSender,
    final_status_hook,
)
from pagewise.logic.notifications import (
    SIGNATURE_HEADER,
    CallbackUrlRefused,
    DeliveryIncomplete,
    Notifier,
    WebhookResponse,
    check_callback_url,
    check_resolved_addresses,
    clean_email,
    email_message,
    retry_delay,
    sign,
    verify,
)
from pagewise.models import ErrorCode, Job, JobStatus
from pymongo.database import Database

from .builders import a_job

SECRET = "whsec-unit"
API_URL = "https://api.example.com/prod"

# -- signature -----------------------------------------------------------------------------


def test_a_signature_verifies_and_any_change_breaks_it() -> None:
    body = b'{"job_id":"abc","status":"completed"}'
    header = sign(SECRET, body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, body, header, now=1_700_000_010)
    assert not verify(SECRET, body + b" ", header, now=1_700_000_010)  # body changed
    assert not verify("other-secret", body, header, now=1_700_000_010)
    assert not verify(SECRET, body, header, now=1_700_000_000 + 301)  # replayed too late
    stale = header.replace("t=1700000000", "t=1700000100")  # timestamp moved, digest kept
    assert not verify(SECRET, body, stale, now=1_700_000_100)
    assert not verify(SECRET, body, "v1=deadbeef", now=1_700_000_000)
    assert not verify(SECRET, body, "t=soon,v1=x", now=1_700_000_000)


def test_a_receiver_accepts_any_of_several_v1_values() -> None:
    # During a secret rotation a sender may send one v1 per secret.
    body = b"{}"
    good = sign(SECRET, body, 100).split(",")[1]
    assert verify(SECRET, body, f"t=100,v1=00ff,{good}", now=100)


# -- callback URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/pagewise",
        "https://hooks.example.com:8443/p?a=1",
        "https://93.184.216.34/hook",
    ],
)
def test_public_https_urls_are_accepted(url: str) -> None:
    assert check_callback_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("https://169.254.169.254/latest/meta-data/", "private"),
        ("https://[fd00:ec2::254]/", "private"),
        ("https://10.1.2.3/", "private"),
        ("https://192.168.0.10/", "private"),
        ("https://100.64.0.1/", "private"),
        ("https://[::ffff:127.0.0.1]/", "private"),
        ("https://0.0.0.0/", "private"),
        ("https://localhost/", "local"),
        ("https://metadata.localhost/", "local"),
        ("https://intranet/", "domain"),
        ("https://a:b@hooks.example.com/", "credentials"),
        ("https://hooks.example.com:99999/", "not a URL"),
        ("https://" + "a" * 2050 + ".com/", "longer"),
    ],
)
def test_urls_that_reach_our_own_network_are_refused(url: str, reason: str) -> None:
    with pytest.raises(CallbackUrlRefused, match=reason):
        check_callback_url(url)


def test_local_callbacks_reach_the_loopback_and_nothing_else() -> None:
    assert check_callback_url("http://127.0.0.1:8080/hook", allow_local=True)
    assert check_callback_url("http://localhost:8080/hook", allow_local=True)
    for url in ("http://10.0.0.1/", "https://169.254.169.254/", "http://hooks.example.com/"):
        with pytest.raises(CallbackUrlRefused):
            check_callback_url(url, allow_local=True)
    with pytest.raises(CallbackUrlRefused):
        check_callback_url("http://127.0.0.1:8080/hook", allow_local=False)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery() -> None:
    check_resolved_addresses("hooks.example.com", ["93.184.216.34"], allow_local=False)
    with pytest.raises(CallbackUrlRefused):
        check_resolved_addresses("hooks.example.com", ["93.184.216.34", "10.0.0.5"], False)
    with pytest.raises(CallbackUrlRefused):  # a public name may not point at the loopback
        check_resolved_addresses("evil.example.com", ["127.0.0.1"], allow_local=True)
    check_resolved_addresses("localhost", ["127.0.0.1", "::1"], allow_local=True)


def test_only_one_plain_address_is_taken_from_the_email_claim() -> None:
    assert clean_email(" alice@example.com ") == "alice@example.com"
    for claim in (None, 42, "alice", "a@b", "a@example.com, b@example.com", "x\n@example.com"):
        assert clean_email(claim) is None


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 30, 900) for n in (1, 2, 3, 4, 5, 6, 50)] == [
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]


# -- delivery with fakes ---------------------------------------------------------------------


class FakeEmail:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail_times = fail_times

    def send(self, to: str, subject: str, text: str) -> str:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("SES throttled")
        self.sent.append((to, subject, text))
        return f"msg-{len(self.sent)}"


class FakeWebhook:
    def __init__(self, *answers: WebhookResponse) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        self.calls.append((url, body, headers))
        return self.answers.pop(0)


def _finished(jobs: JobRepository, status: JobStatus, **fields: Any) -> Job:
    job = a_job(status=JobStatus.SUMMARISING, **fields)
    jobs.insert(job)
    if status == JobStatus.COMPLETED:
        jobs.advance(job.job_id, JobStatus.COMPLETED, completed_at=datetime.now(UTC), total_pages=2)
    else:
        jobs.fail(job.job_id, ErrorCode.CORRUPT_DOCUMENT, "The PDF is damaged.")
    stored = jobs.get(job.job_id)
    assert stored is not None
    return stored


def _notifier(jobs: JobRepository, email: FakeEmail, webhook: FakeWebhook) -> Notifier:
    return Notifier(jobs, email, webhook, lambda: SECRET, API_URL)


def test_email_once_and_the_webhook_until_it_gets_through(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = _finished(
        jobs,
        JobStatus.COMPLETED,
        notify_email="alice@example.com",
        callback_url="https://hooks.example.com/p",
    )
    email = FakeEmail()
    webhook = FakeWebhook(
        WebhookResponse(500), WebhookResponse(None, error="timed out"), WebhookResponse(204)
    )
    notifier = _notifier(jobs, email, webhook)

    for _ in range(2):  # the first two deliveries: the webhook fails, SQS will redeliver
        with pytest.raises(DeliveryIncomplete, match="webhook"):
            notifier.deliver(job.job_id)
    outcome = notifier.deliver(job.job_id)
    assert outcome["webhook"] == "204"

    assert len(email.sent) == 1  # not re-sent on redelivery
    to, subject, text = email.sent[0]
    assert to == "alice@example.com"
    assert "contract.pdf" in subject and "completed" in subject
    assert f"{API_URL}/api/v1/jobs/{job.job_id}/download" in text
    assert len(webhook.calls) == 3
    url, body, headers = webhook.calls[-1]
    assert url == "https://hooks.example.com/p"
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["status"] == "completed" and payload["total_pages"] == 2
    assert payload["status_url"] == f"{API_URL}/api/v1/jobs/{job.job_id}"
    assert payload["error_code"] is None and payload["completed_at"]
    assert [call[2]["X-Pagewise-Delivery"] for call in webhook.calls] == [
        f"{job.job_id}-1",
        f"{job.job_id}-2",
        f"{job.job_id}-3",
    ]
    record = jobs.get(job.job_id).notifications  # type: ignore[union-attr]
    assert record.email_sent_at is not None and record.webhook_delivered_at is not None
    assert record.webhook_attempts == 3 and record.webhook_last_status == "204"

    # A late duplicate message finds everything delivered and sends nothing.
    notifier.deliver(job.job_id)
    assert len(email.sent) == 1 and len(webhook.calls) == 3
    assert jobs.get(job.job_id).processing_status == JobStatus.COMPLETED  # type: ignore[union-attr]


def test_a_failed_job_is_notified_with_its_error(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = _finished(
        jobs, JobStatus.FAILED, notify_email="bob@example.com", callback_url="https://h.example/"
    )
    email, webhook = FakeEmail(fail_times=1), FakeWebhook(WebhookResponse(200))
    notifier = _notifier(jobs, email, webhook)
    with pytest.raises(DeliveryIncomplete, match="email"):  # SES failed; the webhook went
        notifier.deliver(job.job_id)
    notifier.deliver(job.job_id)
    assert len(webhook.calls) == 1 and len(email.sent) == 1
    payload = json.loads(webhook.calls[0][1])
    assert payload["event"] == "job.failed"
    assert payload["error_code"] == "corrupt_document" and payload["download_url"] is None
    assert "failed" in email.sent[0][1]
    assert "corrupt_document" in email.sent[0][2]


def test_a_webhook_refused_with_a_4xx_is_not_retried(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = _finished(jobs, JobStatus.COMPLETED, callback_url="https://h.example/")
    webhook = FakeWebhook(WebhookResponse(404))
    notifier = _notifier(jobs, FakeEmail(), webhook)
    notifier.deliver(job.job_id)  # no DeliveryIncomplete: nothing worth retrying
    notifier.deliver(job.job_id)
    assert len(webhook.calls) == 1
    assert jobs.get(job.job_id).notifications.webhook_gave_up_at is not None  # type: ignore[union-attr]


def test_a_job_not_final_yet_is_not_notified(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    job = a_job(status=JobStatus.OCR_STARTED, notify_email="a@example.com")
    jobs.insert(job)
    email = FakeEmail()
    with pytest.raises(DeliveryIncomplete, match="not final"):
        _notifier(jobs, email, FakeWebhook()).deliver(job.job_id)
    assert email.sent == []


def test_email_names_the_failure() -> None:
    job = a_job(
        status=JobStatus.FAILED,
        file_name="scan.tiff",
        error_code="encrypted_pdf",
        error_message="The PDF is protected by a password.",
    )
    subject, text = email_message(job, API_URL)
    assert subject == 'Pagewise: "scan.tiff" failed'
    assert "encrypted_pdf" in text and "password" in text


# -- the hook on the final compare-and-set -------------------------------------------------


def test_the_hook_fires_once_per_job_and_never_fails_the_write(
    db: Database[dict[str, Any]],
) -> None:
    seen: list[tuple[str, JobStatus]] = []

    def hook(job: Job) -> None:
        seen.append((job.job_id, job.processing_status))
        raise RuntimeError("SQS is down")

    jobs = JobRepository(db, on_final=hook)
    failing, finishing = a_job(status=JobStatus.QUEUED), a_job(status=JobStatus.SUMMARISING)
    jobs.insert(failing)
    jobs.insert(finishing)
    assert jobs.fail(failing.job_id, ErrorCode.TIMEOUT, "late") is not None  # hook raised: kept
    assert jobs.fail(failing.job_id, ErrorCode.TIMEOUT, "again") is None  # already final
    assert jobs.advance(finishing.job_id, JobStatus.TRANSLATION_STARTED) is None  # backwards
    assert jobs.advance(finishing.job_id, JobStatus.COMPLETED) is not None
    assert jobs.advance(finishing.job_id, JobStatus.COMPLETED) is None
    assert seen == [(failing.job_id, JobStatus.FAILED), (finishing.job_id, JobStatus.COMPLETED)]
    assert jobs.get(failing.job_id).processing_status == JobStatus.FAILED  # type: ignore[union-attr]


def test_the_queue_gets_a_pointer_only_for_jobs_someone_waits_for(aws: dict[str, str]) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="unit-notifications")["QueueUrl"]
    hook = final_status_hook(url)
    assert hook is not None and final_status_hook(None) is None
    hook(a_job(status=JobStatus.COMPLETED))  # nobody to tell: nothing sent
    told = a_job(status=JobStatus.COMPLETED, callback_url="https://h.example/")
    hook(told)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"job_id": told.job_id}]
    NotificationQueue(url).redeliver_after(messages[0]["ReceiptHandle"], 5)


def test_ses_sends_from_the_verified_sender(aws: dict[str, str]) -> None:
    ses = boto3.client("ses")
    sender = SesEmailSender("notifications@pagewise.test")
    with pytest.raises(Exception, match=r"not verified|MessageRejected"):
        sender.send("alice@example.com", "subject", "text")
    ses.verify_email_identity(EmailAddress="notifications@pagewise.test")
    assert sender.send("alice@example.com", 'Pagewise: "a.pdf" failed', "text")
    assert ses.get_send_quota()["SentLast24Hours"] == 1


# -- the HTTP call ----------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[int], list[dict[str, Any]]]]:
    """A local endpoint answering the listed codes in turn (then 200); records requests."""
    answers: list[int] = []
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            code = answers.pop(0) if answers else 200
            self.send_response(code)
            if code in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers, received
    server.shutdown()
    server.server_close()


def test_http_poster_reports_codes_and_never_follows_redirects(
    receiver: tuple[str, list[int], list[dict[str, Any]]],
) -> None:
    base, answers, received = receiver
    poster = HttpWebhookPoster(timeout_seconds=5, allow_local=True)
    answers.extend([503, 302])
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, b"{}", 1)}
    assert poster.post(f"{base}/hook", b"{}", headers) == WebhookResponse(503)
    assert poster.post(f"{base}/hook", b"{}", headers) == WebhookResponse(302)
    assert poster.post(f"{base}/hook", b"{}", headers).delivered
    assert len(received) == 3 and all(r["path"] == "/hook" for r in received)
    assert received[0]["headers"][SIGNATURE_HEADER] == headers[SIGNATURE_HEADER]
    refused = poster.post("http://127.0.0.1:9/closed", b"{}", {})
    assert refused.status_code is None and refused.retryable
    with pytest.raises(CallbackUrlRefused):
        HttpWebhookPoster(timeout_seconds=5, allow_local=False).post(f"{base}/hook", b"{}", {})


def test_the_documented_verification_recipe_accepts_our_signature() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "notifications.md").read_text()
    section = doc.split("**Verifying the signature.**", 1)[1]
    recipe = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(recipe, namespace)
    body = b'{"job_id":"abc"}'
    header = sign(SECRET, body, int(time.time()))
    assert namespace["verify"](SECRET, body, header)
    assert not namespace["verify"](SECRET, body + b"x", header)
    assert not namespace["verify"]("other", body, header)
