"""Delivering what a finished job owes: the Notifier, and the ports it sends through.

The job's status is final before anything here runs (the notify function is fed by the
compare-and-set that made it final), and nothing here can change it: a webhook that keeps
failing only fills ``notifications`` on the job.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pagewise.logic.notifications.messages import email_message, webhook_payload
from pagewise.logic.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    sign,
    standard_webhook_headers,
)
from pagewise.logic.notifications.urls import CallbackUrlRefused
from pagewise.models import TERMINAL_STATUSES, Job

LOG = logging.getLogger(__name__)


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
        recipient = job.email_recipient  # a verified address only
        if self.email is not None and recipient and record.email_sent_at is None:
            subject, text = email_message(job, self.api_url)
            try:
                self.email.send(recipient, subject, text)
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
        secret, now = self.secret(), int(time.time())
        # A job ends once: its id and final status name the message, the same on every retry
        # (what a receiver de-duplicates on); X-Pagewise-Delivery counts the attempts.
        message_id = f"msg_{job.job_id}_{job.processing_status}"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Pagewise-Webhook/1",
            EVENT_HEADER: f"job.{job.processing_status}",
            DELIVERY_HEADER: f"{job.job_id}-{attempt}",
            **standard_webhook_headers(secret, message_id, now, body),
            SIGNATURE_HEADER: sign(secret, body, now),
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
