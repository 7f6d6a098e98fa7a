"""Notifications: the webhook signature, the callback URL guard, and delivery with fakes (the
job record on SecantusDB), the SQS hook with moto, the HTTP call against a local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import standardwebhooks
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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
    receiver_secret,
    retry_delay,
    sign,
    standard_webhook_headers,
    verify,
)
from pagewise.models import ErrorCode, Job, JobStatus
from pymongo.database import Database

from tests.unit.builders import a_job

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
        # Addresses that embed an IPv4 address or lead through a translator to one.
        ("https://[64:ff9b::7f00:1]/", "private"),  # NAT64 of 127.0.0.1
        ("https://[64:ff9b::5db8:d822]/", "private"),  # NAT64, even of a public address
        ("https://[64:ff9b:1::a00:1]/", "private"),  # local-use NAT64
        ("https://[::127.0.0.1]/", "private"),  # IPv4-compatible
        ("https://[::5db8:d822]/", "private"),  # IPv4-compatible, public inside
        ("https://[::ffff:10.0.0.1]/", "private"),  # IPv4-mapped private
        ("https://[2002:7f00:1::1]/", "private"),  # 6to4 around 127.0.0.1
        # URLs that http.client or IDNA would refuse at delivery.
        ("https://example.com/a\r\nX: 1", "control characters"),
        ("https://example.com/a b", "control characters"),
        ("https://example.com/\ta", "control characters"),
        ("https://" + "a" * 64 + ".example.com/", "label"),
        ("https://" + ("a" * 60 + ".") * 5 + "com/", "host name"),
        ("https://hooks..example.com/", "label"),
        ("https://hooks.exa_mple.com/", "host name"),
    ],
)
def test_urls_that_reach_our_own_network_are_refused(url: str, reason: str) -> None:
    with pytest.raises(CallbackUrlRefused, match=reason):
        check_callback_url(url)


def test_a_public_address_mapped_into_ipv6_is_accepted() -> None:
    assert check_callback_url("https://[::ffff:93.184.216.34]/hook")
    assert check_callback_url("https://[2606:2800:220:1:248:1893:25c8:1946]/hook")
    assert check_callback_url("https://b\u00fccher.example/hook")  # IDNA: xn--bcher-kva


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
    for translated in ("64:ff9b::7f00:1", "::127.0.0.1", "::ffff:169.254.169.254", "2002:a00:1::"):
        with pytest.raises(CallbackUrlRefused):  # DNS answering with an embedded IPv4
            check_resolved_addresses("hooks.example.com", [translated], allow_local=False)


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
        notify_email_verified=True,
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
    assert job.job_id in subject and "completed" in subject
    assert '"contract.pdf"' in text
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
        jobs,
        JobStatus.FAILED,
        notify_email="bob@example.com",
        notify_email_verified=True,
        callback_url="https://h.example/",
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
    job = a_job(
        status=JobStatus.OCR_STARTED, notify_email="a@example.com", notify_email_verified=True
    )
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
    assert subject == f"Pagewise: job {job.job_id} failed"
    assert '"scan.tiff"' in text
    assert "encrypted_pdf" in text and "password" in text


def test_email_goes_only_to_a_verified_address(db: Database[dict[str, Any]]) -> None:
    jobs = JobRepository(db)
    unverified = _finished(jobs, JobStatus.COMPLETED, notify_email="mallory@victim.example")
    verified = _finished(
        jobs, JobStatus.COMPLETED, notify_email="alice@example.com", notify_email_verified=True
    )
    email = FakeEmail()
    notifier = _notifier(jobs, email, FakeWebhook())
    assert "email" not in notifier.deliver(unverified.job_id)
    notifier.deliver(verified.job_id)
    assert [to for to, _, _ in email.sent] == ["alice@example.com"]
    assert jobs.get(unverified.job_id).notifications.email_sent_at is None  # type: ignore[union-attr]


UPLOADER_NAME = "Invoice\r\nBcc: everyone@victim.example\r\n\r\nWin a prize.pdf"
UPLOADER_SUMMARY = (
    "The contract is fine.\r\nSubject: URGENT\nVisit https://evil.example/login now\u2028x"
)


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED])
def test_uploader_text_stays_out_of_the_subject_and_is_quoted_in_the_body(
    status: JobStatus,
) -> None:
    job = a_job(
        status=status,
        file_name=UPLOADER_NAME,
        report_id="R-1\r\nX-Injected: 1",
        summary=UPLOADER_SUMMARY,
        total_pages=1,
        error_code="corrupt_document" if status == JobStatus.FAILED else None,
        error_message="The PDF is damaged." if status == JobStatus.FAILED else None,
    )
    subject, text = email_message(job, API_URL)
    assert subject == f"Pagewise: job {job.job_id} {status}"
    assert "\r" not in text and "\u2028" not in text
    lines = text.splitlines()
    # The file name and the report id each stay on one quoted line: nothing they hold can
    # start a header or a line of its own.
    assert not any(line.startswith(("Bcc:", "Subject:", "X-Injected:")) for line in lines)
    assert 'Document: "Invoice Bcc: everyone@victim.example Win a prize.pdf"' in lines
    assert 'Report: "R-1 X-Injected: 1"' in lines
    if status == JobStatus.COMPLETED:
        # The summary is the document's own text: every line of it marked as a quotation.
        quoted = [line for line in lines if line.startswith("> ")]
        assert quoted == [
            "> The contract is fine.",
            "> Subject: URGENT",
            "> Visit https://evil.example/login now",
            "> x",
        ]
        assert not any("evil.example" in line for line in lines if not line.startswith("> "))


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
    # An address its provider did not verify is not written to: nothing owed either.
    hook(a_job(status=JobStatus.COMPLETED, notify_email="a@example.com"))
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


def _recipes() -> dict[str, Any]:
    """The Python blocks of docs/notifications.md, run as a receiver would paste them."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "notifications.md").read_text()
    namespace: dict[str, Any] = {}
    for block in page.split("```python\n")[1:]:
        exec(block.split("```", 1)[0], namespace)
    return namespace


def test_the_documented_recipes_accept_our_signatures(db: Database[dict[str, Any]]) -> None:
    recipes = _recipes()
    jobs = JobRepository(db)
    job = _finished(jobs, JobStatus.FAILED, callback_url="https://hooks.example.com/p")
    webhook = FakeWebhook(WebhookResponse(200))
    _notifier(jobs, FakeEmail(), webhook).deliver(job.job_id)
    [(_, body, headers)] = webhook.calls
    whsec = receiver_secret(SECRET)
    for check in (recipes["verify"], recipes["verify_stdlib"]):
        assert check(whsec, body, headers)
        assert not check(whsec, body + b"x", headers)
        assert not check(receiver_secret("other"), body, headers)
        stale = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
        assert not check(whsec, body, stale)
    legacy = recipes["verify_legacy"]
    assert legacy(SECRET, body, headers[SIGNATURE_HEADER])
    assert not legacy(SECRET, body + b"x", headers[SIGNATURE_HEADER])
    assert not legacy("other", body, headers[SIGNATURE_HEADER])


# -- URLs that cannot be sent, pinned addresses, Standard Webhooks -----------------------------


@pytest.mark.parametrize(
    "url",
    [
        # Stored before the API refused them: they once raised inside delivery (a crash,
        # retried ten times, never recorded on the job).
        "http://127.0.0.1:9/a\r\nX: 1",
        "https://" + "a" * 64 + ".example.com/hook",
    ],
)
def test_a_callback_url_that_cannot_be_sent_is_recorded_as_given_up(
    db: Database[dict[str, Any]], url: str
) -> None:
    jobs = JobRepository(db)
    job = _finished(jobs, JobStatus.COMPLETED, callback_url=url)
    poster = HttpWebhookPoster(timeout_seconds=5, allow_local=True)
    notifier = Notifier(jobs, None, poster, lambda: SECRET, API_URL)
    outcome = notifier.deliver(job.job_id)  # no exception: nothing worth retrying
    assert "refused" in outcome["webhook"]
    record = jobs.get(job.job_id).notifications  # type: ignore[union-attr]
    assert record.webhook_gave_up_at is not None and record.webhook_delivered_at is None
    assert record.webhook_attempts == 1 and "refused" in (record.webhook_last_status or "")
    notifier.deliver(job.job_id)  # a redelivered message does not try again
    assert jobs.get(job.job_id).notifications.webhook_attempts == 1  # type: ignore[union-attr]


def test_the_poster_connects_to_the_address_it_checked(
    receiver: tuple[str, list[int], list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolves to an allowed address for the check, then to another
    one. The request must go to the address that was checked, with the name as its Host."""
    base, _, received = receiver
    port = int(base.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "localhost":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"  # nothing listens there
        return real_getaddrinfo(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    poster = HttpWebhookPoster(timeout_seconds=5, allow_local=True)
    response = poster.post(f"http://localhost:{port}/pinned", b"{}", {})
    assert response.delivered, response
    assert lookups == ["localhost"]  # resolved once
    assert received[-1]["path"] == "/pinned"
    assert received[-1]["headers"]["Host"] == f"localhost:{port}"


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_over_tls_the_pinned_connection_keeps_the_name_for_sni_and_the_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path, "localhost")
    server_names: list[str | None] = []
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)

    def remember_sni(_sock: Any, name: str | None, _context: Any) -> None:
        server_names.append(name)

    server_tls.sni_callback = remember_sni

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        poster = HttpWebhookPoster(timeout_seconds=5, allow_local=True, tls=trust)
        assert poster.post(f"https://localhost:{port}/tls", b"{}", {}).status_code == 204
        assert lookups == ["localhost"] and server_names == ["localhost"]
        # The certificate is checked against the URL's name, not the address connected to.
        wrong = HttpWebhookPoster(timeout_seconds=5, allow_local=True, tls=trust)
        refused = wrong.post(f"https://127.0.0.1:{port}/tls", b"{}", {})
        assert refused.status_code is None and "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")
    finally:
        server.shutdown()
        server.server_close()


def test_our_webhook_verifies_with_the_standard_webhooks_library(
    db: Database[dict[str, Any]],
) -> None:
    jobs = JobRepository(db)
    job = _finished(jobs, JobStatus.COMPLETED, callback_url="https://hooks.example.com/p")
    webhook = FakeWebhook(WebhookResponse(503), WebhookResponse(200))
    notifier = _notifier(jobs, FakeEmail(), webhook)
    with pytest.raises(DeliveryIncomplete):
        notifier.deliver(job.job_id)
    notifier.deliver(job.job_id)
    receiver = standardwebhooks.Webhook(receiver_secret(SECRET))
    for _, body, headers in webhook.calls:
        assert receiver.verify(body, headers)["job_id"] == job.job_id
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            receiver.verify(body + b" ", headers)
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook(receiver_secret("another-secret")).verify(body, headers)
        # The old header still verifies for receivers that have not moved yet.
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
    # One message, whatever the attempt: the id a receiver de-duplicates on is stable.
    ids = {headers["webhook-id"] for _, _, headers in webhook.calls}
    assert ids == {f"msg_{job.job_id}_completed"}


def test_a_whsec_secret_is_used_as_its_decoded_bytes() -> None:
    key = bytes(range(32))
    configured = "whsec_" + base64.b64encode(key).decode()
    assert receiver_secret(configured) == configured
    assert receiver_secret("plain") == "whsec_" + base64.b64encode(b"plain").decode()
    headers = standard_webhook_headers(configured, "msg_1", 1_700_000_000, b"{}")
    expected = hmac.new(key, b"msg_1.1700000000.{}", hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
    assert headers["webhook-timestamp"] == "1700000000" and headers["webhook-id"] == "msg_1"


# -- a slow receiver and the batch ---------------------------------------------------------------


@dataclass
class Dripper:
    """One server, two receivers: ``/drip`` answers one byte at a time (a receiver holding its
    caller) until the caller hangs up or ``DRIP_BYTES`` are out, then completes a 200; ``/ok``
    answers 200 at once. Records what the dripping call saw."""

    base_url: str = ""
    ok_received: threading.Event = field(default_factory=threading.Event)
    ok_seen_while_dripping: bool = False
    caller_hung_up: bool = False
    drip_finished: bool = False
    drip_ended: threading.Event = field(default_factory=threading.Event)


DRIP_BYTES = 60  # at 0.25 s a byte: bounded, it ends by itself after about 15 s
DRIP_INTERVAL_SECONDS = 0.25


@pytest.fixture
def dripper() -> Iterator[Dripper]:
    state = Dripper()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/ok":
                state.ok_received.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            head = b"HTTP/1.1 200 OK\r\nX-Drip: "
            try:
                self.wfile.write(head)
                for _ in range(DRIP_BYTES):
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    if state.ok_received.is_set():
                        state.ok_seen_while_dripping = True
                    time.sleep(DRIP_INTERVAL_SECONDS)  # paces the drip
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
                self.wfile.flush()
                state.drip_finished = True
            except OSError:  # the caller gave up and closed the connection
                state.caller_hung_up = True
            finally:
                state.drip_ended.set()
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def _notify_handler(
    db: Database[dict[str, Any]], mongo_uri: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """functions/notify/app.py, imported afresh (its cold start) against the test's MongoDB."""
    environment = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": db.name,
        "UPLOADS_BUCKET": "unit-uploads",
        "PUBLIC_API_URL": API_URL,
        "WEBHOOK_SECRET": SECRET,
        "ALLOW_LOCAL_CALLBACKS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "NOTIFICATIONS_QUEUE_URL": "",
        "NOTIFY_FROM_EMAIL": "",
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    code = Path(__file__).resolve().parents[3] / "functions" / "notify" / "app.py"
    spec = importlib.util.spec_from_file_location(f"notify_{uuid.uuid4().hex[:8]}", code)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler  # type: ignore[no-any-return]


def _sqs_record(job_id: str) -> dict[str, Any]:
    return {
        "messageId": f"m-{job_id}",
        "receiptHandle": f"r-{job_id}",
        "body": json.dumps({"job_id": job_id}),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:unit-notifications",
        "awsRegion": "us-east-1",
    }


def test_a_dripping_receiver_gives_up_at_its_deadline_and_holds_no_one_else(
    db: Database[dict[str, Any]],
    mongo_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    dripper: Dripper,
) -> None:
    jobs = JobRepository(db)
    slow = _finished(jobs, JobStatus.COMPLETED, callback_url=f"{dripper.base_url}/drip")
    other = _finished(jobs, JobStatus.FAILED, callback_url=f"{dripper.base_url}/ok")
    handler = _notify_handler(db, mongo_uri, monkeypatch)
    context = SimpleNamespace(
        function_name="pagewise-NotifyFunction",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:notify",
        aws_request_id=str(uuid.uuid4()),
    )
    # The slow receiver's message comes first in the batch.
    answer = handler({"Records": [_sqs_record(slow.job_id), _sqs_record(other.job_id)]}, context)

    # Only the slow one fails (SQS brings it back later); the other tenant's got through.
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m-{slow.job_id}"}]}
    delivered = jobs.get(other.job_id).notifications  # type: ignore[union-attr]
    assert delivered.webhook_delivered_at is not None and delivered.webhook_attempts == 1
    held = jobs.get(slow.job_id).notifications  # type: ignore[union-attr]
    assert held.webhook_attempts == 1 and held.webhook_delivered_at is None
    assert held.webhook_gave_up_at is None  # a deadline is worth retrying
    assert "deadline" in (held.webhook_last_status or ""), held.webhook_last_status
    # The dripping call ended because we hung up, not because the receiver finished; and the
    # other delivery was answered while that call was still held open.
    assert dripper.drip_ended.wait(DRIP_BYTES * DRIP_INTERVAL_SECONDS + 10)
    assert dripper.caller_hung_up and not dripper.drip_finished
    assert dripper.ok_seen_while_dripping
