"""The notifications queue (SQS), the email sender (SES) and the webhook's HTTP call."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from pagewise.logic.notifications import (
    WebhookResponse,
    check_callback_url,
    check_resolved_addresses,
)

if TYPE_CHECKING:
    from pagewise.models import Job

LOG = logging.getLogger(__name__)
# The final compare-and-set has already happened when the queue is called: a slow or absent
# SQS must not hold the function that ended the job, so a short timeout and few retries.
_QUEUE_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3})
_SES_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3})


class NotificationQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    @cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs", config=_QUEUE_CONFIG)

    def enqueue(self, job: Job) -> None:
        """Post {job_id} for a job that just became final, if anyone is to be told."""
        if not (job.email_recipient or job.callback_url):
            return
        self._sqs.send_message(
            QueueUrl=self.queue_url, MessageBody=json.dumps({"job_id": job.job_id})
        )

    def redeliver_after(self, receipt_handle: str, seconds: int) -> None:
        """Backoff: the failed message comes back after ``seconds``, not the queue's default."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


def final_status_hook(queue_url: str | None) -> Callable[[Job], None] | None:
    """What JobRepository calls when a job becomes completed or failed; None: no queue."""
    return NotificationQueue(queue_url).enqueue if queue_url else None


class SesEmailSender:
    def __init__(self, from_email: str) -> None:
        self.from_email = from_email

    @cached_property
    def _ses(self) -> Any:
        return boto3.client("ses", config=_SES_CONFIG)

    def send(self, to: str, subject: str, text: str) -> str:
        answer = self._ses.send_email(
            Source=self.from_email,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
        return str(answer["MessageId"])


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could point anywhere, our own network included: it is an answer, not a hop.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpWebhookPoster:
    def __init__(self, timeout_seconds: float, allow_local: bool) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_local = allow_local
        self._opener = urllib.request.build_opener(_NoRedirects())

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        # Checked again now, and once resolved: the API checked the URL when the job was made,
        # but a name can be pointed at a private address afterwards.
        check_callback_url(url, self.allow_local)
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            resolved = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as error:
            return WebhookResponse(status_code=None, error=f"cannot resolve {host}: {error}")
        check_resolved_addresses(host, [str(info[4][0]) for info in resolved], self.allow_local)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                return WebhookResponse(status_code=response.status)
        except urllib.error.HTTPError as error:
            return WebhookResponse(status_code=error.code)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            return WebhookResponse(status_code=None, error=type(reason).__name__ + f": {reason}")
