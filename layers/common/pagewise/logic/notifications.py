"""Telling the job's creator it finished: an email to the token's address and a signed webhook.

The job's status is final before anything here runs (the notify function is fed by the
compare-and-set that made it final), and nothing here can change it: a webhook that keeps
failing only fills ``notifications`` on the job.

Webhook signature (what a receiver checks; see README "Notifications"):
``X-Pagewise-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from pagewise.documents.citations import CATEGORY_LABELS, CitedSummary
from pagewise.models import TERMINAL_STATUSES, Job, JobStatus

LOG = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pagewise-Signature"
EVENT_HEADER = "X-Pagewise-Event"
DELIVERY_HEADER = "X-Pagewise-Delivery"
# A receiver should refuse a signature older than this (replays of a captured request).
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_CALLBACK_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Loose on purpose: the identity provider vouches for the claim; this only keeps obvious junk
# (and header injection) out of SES's Destination.
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,253}\.[^@\s<>,;\".]{2,63}$")


# -- webhook URLs (SSRF guard) -------------------------------------------------------------


class CallbackUrlRefused(ValueError):
    """A callback URL Pagewise will not call."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    # is_global is False for private, loopback, link-local (169.254.169.254, the instance
    # metadata service), shared (100.64/10), reserved and unspecified ranges, and for
    # fd00:ec2::254 (unique local): everything a webhook could use to reach our own network.
    return address.is_global and not address.is_multicast


def check_callback_url(url: str, allow_local: bool = False) -> str:
    """The URL if Pagewise may call it, else CallbackUrlRefused saying why.

    https only. ``allow_local`` (the local stack) also lets http reach 127.0.0.1/localhost, and
    only those: every other private, loopback or link-local address stays refused. Host names
    are checked again once resolved, at delivery (``check_resolved_addresses``).
    """
    if len(url) > MAX_CALLBACK_URL_LENGTH:
        raise CallbackUrlRefused(f"longer than {MAX_CALLBACK_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError as error:
        raise CallbackUrlRefused(f"not a URL: {error}") from error
    host = (parts.hostname or "").lower()
    if not host:
        raise CallbackUrlRefused("no host")
    if parts.username is not None or parts.password is not None:
        raise CallbackUrlRefused("credentials in the URL are not accepted; use the signature")
    if parts.fragment:
        raise CallbackUrlRefused("fragments are not sent; remove the '#' part")
    local = host in LOCAL_HOSTS
    if parts.scheme == "http":
        if not (allow_local and local):
            raise CallbackUrlRefused("https is required")
    elif parts.scheme != "https":
        raise CallbackUrlRefused("https is required")
    if local or host.endswith(".localhost"):
        if not (allow_local and local):
            raise CallbackUrlRefused("a local address is not reachable from the service")
        return url
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise CallbackUrlRefused("a host name with a domain is required") from None
        return url
    if not _is_public(literal):
        raise CallbackUrlRefused("private, loopback, link-local and reserved addresses are refused")
    return url


def check_resolved_addresses(host: str, addresses: Iterable[str], allow_local: bool) -> None:
    """Refuse a host that resolves to any non-public address (DNS pointing at our network)."""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if _is_public(address):
            continue
        if allow_local and host.lower() in LOCAL_HOSTS and address.is_loopback:
            continue
        raise CallbackUrlRefused(f"{host} resolves to a non-public address")


# -- signing --------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Pagewise-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    now: float | None = None,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver runs: the header's v1 matches and its t is recent. Constant-time."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))


# -- what is sent ---------------------------------------------------------------------------


def clean_email(claim: object) -> str | None:
    """The token's `email` claim if it looks like one address, else None (no email sent)."""
    if not isinstance(claim, str):
        return None
    address = claim.strip()
    return address if _EMAIL.match(address) else None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


def webhook_payload(job: Job, api_url: str) -> dict[str, Any]:
    base = f"{api_url.rstrip('/')}/api/v1/jobs/{job.job_id}"
    completed = job.processing_status == JobStatus.COMPLETED
    return {
        "event": f"job.{job.processing_status}",
        "job_id": job.job_id,
        "document_id": job.job_id,
        "status": str(job.processing_status),
        "error_code": job.error_code,
        "error_message": job.error_message,
        "file_name": job.file_name,
        "client_name": job.client_name,
        "report_id": job.report_id,
        "total_pages": job.total_pages,
        "created_at": _iso(job.created_at),
        "completed_at": _iso(job.completed_at),
        "status_url": base,
        "result_url": f"{base}/result" if completed else None,
        "download_url": f"{base}/download" if completed else None,
    }


def key_fact_lines(cited: CitedSummary | None, limit: int = 12) -> list[str]:
    """The verified key facts as the email lists them: "- Amounts: 800 € (p. 1)"."""
    if cited is None or not (cited.shown_facts or cited.facts_unverified):
        return []
    lines = ["", "Key facts:"]
    lines += [
        f"- {CATEGORY_LABELS.get(fact.category, fact.category)}: {fact.text} (p. {fact.page})"
        for fact in cited.shown_facts[:limit]
    ]
    if cited.facts_unverified:
        lines.append(
            f"({cited.facts_unverified} more not shown: their quote was not found on the page "
            "they cite.)"
        )
    return lines


def email_message(job: Job, api_url: str) -> tuple[str, str]:
    """(subject, plain-text body): the document's name and how it ended."""
    status_url = f"{api_url.rstrip('/')}/api/v1/jobs/{job.job_id}"
    if job.processing_status == JobStatus.COMPLETED:
        subject = f'Pagewise: "{job.file_name}" is ready (completed)'
        pages = f"{job.total_pages} page(s) read, translated and summarised."
        lines = [f'Your document "{job.file_name}" is ready.', pages]
        if job.summary:
            lines += ["", "Summary:", job.summary[:2000]]
        lines += key_fact_lines(job.summary_cited)
        lines += ["", f"Status: {status_url}", f"Download the PDF: {status_url}/download"]
    else:
        subject = f'Pagewise: "{job.file_name}" failed'
        lines = [
            f'Your document "{job.file_name}" could not be processed.',
            f"Reason ({job.error_code or 'unknown'}): {job.error_message or 'no detail'}",
            "",
            f"Status: {status_url}",
        ]
    if job.report_id:
        lines.insert(1, f"Report: {job.report_id}")
    return subject, "\n".join(lines) + "\n"


# -- delivering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int | None  # None: no HTTP answer (connection refused, timeout, TLS)
    error: str | None = None
    # Not sent at all, and never will be (the host resolves to an address we never call).
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        # No answer, 408, 429 or 5xx may get better; another 4xx (or a redirect, which is never
        # followed: it could point anywhere) will not.
        code = self.status_code
        if self.refused:
            return False
        return code is None or code in (408, 429) or code >= 500

    def describe(self) -> str:
        return str(self.status_code) if self.status_code is not None else f"error: {self.error}"


class EmailSender(Protocol):
    def send(self, to: str, subject: str, text: str) -> str: ...


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse: ...


class NotificationLedger(Protocol):
    """Per-job record of deliveries (``JobRepository`` implements it)."""

    def get(self, job_id: str) -> Job | None: ...

    def mark_email_sent(self, job_id: str, at: datetime) -> bool: ...

    def record_webhook_attempt(
        self, job_id: str, status: str, delivered: bool, gave_up: bool, at: datetime
    ) -> None: ...


class DeliveryIncomplete(Exception):
    """Something worth retrying did not get through; the message is redelivered later."""


@dataclass
class Notifier:
    ledger: NotificationLedger
    email: EmailSender | None  # None: no sender configured, webhooks only
    webhook: WebhookPoster
    secret: Callable[[], str]
    api_url: str

    def deliver(self, job_id: str) -> dict[str, Any]:
        """Send what is still owed for a finished job. Raises DeliveryIncomplete to retry."""
        job = self.ledger.get(job_id)
        if job is None:
            return {"job_id": job_id, "outcome": "job deleted"}
        if job.processing_status not in TERMINAL_STATUSES:
            # Cannot happen through the hook (it fires on the final compare-and-set); a stray
            # message waits for the job rather than telling the user something false.
            raise DeliveryIncomplete(f"job {job_id} is {job.processing_status}, not final")
        problems: list[str] = []
        outcome: dict[str, Any] = {"job_id": job_id, "status": str(job.processing_status)}
        record = job.notifications
        if self.email is not None and job.notify_email and record.email_sent_at is None:
            subject, text = email_message(job, self.api_url)
            try:
                self.email.send(job.notify_email, subject, text)
            except Exception as error:  # SES refused or unreachable: try again later
                LOG.warning("email for job %s not sent: %s", job_id, error)
                problems.append(f"email: {error}")
            else:
                self.ledger.mark_email_sent(job_id, datetime.now(UTC))
                outcome["email"] = "sent"
        pending_webhook = record.webhook_delivered_at is None and record.webhook_gave_up_at is None
        if job.callback_url and pending_webhook:
            response = self._post_webhook(job, record.webhook_attempts + 1)
            gave_up = not response.delivered and not response.retryable
            self.ledger.record_webhook_attempt(
                job_id, response.describe(), response.delivered, gave_up, datetime.now(UTC)
            )
            outcome["webhook"] = response.describe()
            if gave_up:
                LOG.warning("webhook for job %s refused for good: %s", job_id, response.describe())
            elif not response.delivered:
                problems.append(f"webhook: {response.describe()}")
        if problems:
            raise DeliveryIncomplete("; ".join(problems))
        return outcome

    def _post_webhook(self, job: Job, attempt: int) -> WebhookResponse:
        assert job.callback_url is not None
        body = json.dumps(webhook_payload(job, self.api_url), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Pagewise-Webhook/1",
            EVENT_HEADER: f"job.{job.processing_status}",
            DELIVERY_HEADER: f"{job.job_id}-{attempt}",
            SIGNATURE_HEADER: sign(self.secret(), body, int(time.time())),
        }
        try:
            return self.webhook.post(job.callback_url, body, headers)
        except CallbackUrlRefused as error:
            # The host now resolves somewhere we never call: not worth retrying.
            return WebhookResponse(status_code=None, error=f"refused: {error}", refused=True)


def retry_delay(receive_count: int, base_seconds: int, max_seconds: int) -> int:
    """Seconds before a failed delivery's next try: base, 2x base, 4x base... capped."""
    exponent = min(max(receive_count - 1, 0), 16)
    return int(min(base_seconds * 2**exponent, max_seconds))
