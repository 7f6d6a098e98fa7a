"""The notifications queue (SQS), the email sender (SES) and the webhook's HTTP call."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
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


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to addresses resolved and checked beforehand, never resolving the name again
    (DNS could answer differently by then); the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, addresses: list[str], deadline: float) -> None:
        super().__init__(host, port, timeout=max(deadline - time.monotonic(), 0.001))
        self._create_connection = _connector(addresses, deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is checked against the URL's host name, which is
    also the SNI (``HTTPSConnection`` wraps the socket with ``server_hostname=host``)."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        deadline: float,
        context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            host,
            port,
            timeout=max(deadline - time.monotonic(), 0.001),
            context=context or ssl.create_default_context(),
        )
        self._create_connection = _connector(addresses, deadline)


def _connector(addresses: list[str], deadline: float) -> Callable[..., socket.socket]:
    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        last: OSError | None = None
        for ip in addresses:  # each checked address in DNS order, until one answers
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return socket.create_connection((ip, address[1]), remaining)
            except OSError as error:
                last = error
        raise last or TimeoutError("deadline passed before a connection")

    return connect


class DeadlineExceeded(TimeoutError):
    """The webhook call as a whole outlasted its deadline."""


class _Watchdog:
    """Cuts a connection at its deadline, whatever it is doing: a socket timeout bounds each
    read, not the whole answer (a receiver sending a byte a second never trips it)."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection = connection
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0), self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.fired = True
        sock = self.connection.sock
        if sock is not None:
            # Wakes a read blocked in another thread (close() alone would not); the plain
            # socket's shutdown, so that a TLS socket is cut the same way.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()


class HttpWebhookPoster:
    def __init__(
        self, timeout_seconds: float, allow_local: bool, tls: ssl.SSLContext | None = None
    ) -> None:
        # The whole call's deadline (connect, send, status line and headers), by the wall
        # clock; the name resolution before it has the resolver's own timeout.
        self.timeout_seconds = timeout_seconds
        self.allow_local = allow_local
        self.tls = tls  # None: the system's CAs (a test passes its own)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        """POST ``body`` to ``url``; never follows a redirect (it could point anywhere, our own
        network included: it is an answer, not a hop). Raises CallbackUrlRefused for a URL or
        a resolved address Pagewise never calls."""
        # Checked again now, and once resolved: the API checked the URL when the job was made,
        # but a name can be pointed at a private address afterwards. The connection then goes
        # to the addresses checked here, not to whatever a second lookup would answer.
        check_callback_url(url, self.allow_local)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            resolved = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as error:
            return WebhookResponse(status_code=None, error=f"cannot resolve {host}: {error}")
        addresses = list(dict.fromkeys(str(info[4][0]) for info in resolved))
        check_resolved_addresses(host, addresses, self.allow_local)
        deadline = time.monotonic() + self.timeout_seconds
        connection: http.client.HTTPConnection = (
            _PinnedHTTPSConnection(host, port, addresses, deadline, self.tls)
            if parts.scheme == "https"
            else _PinnedHTTPConnection(host, port, addresses, deadline)
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        watchdog = _Watchdog(connection, deadline - time.monotonic())
        try:
            with watchdog:
                connection.request("POST", target, body=body, headers=headers)
                with connection.getresponse() as response:
                    if watchdog.fired:  # an answer cut short is no answer
                        raise DeadlineExceeded
                    return WebhookResponse(status_code=response.status)
        except (http.client.HTTPException, OSError, ValueError) as error:
            if watchdog.fired or time.monotonic() >= deadline:
                return WebhookResponse(
                    status_code=None,
                    error=f"deadline: no answer within {self.timeout_seconds:g} s",
                )
            if isinstance(error, http.client.InvalidURL | ValueError):
                # A URL http.client cannot send (check_callback_url should have refused it):
                # no retry will change that, so it ends the tries instead of failing the batch.
                return WebhookResponse(status_code=None, error=f"refused: {error}", refused=True)
            return WebhookResponse(status_code=None, error=f"{type(error).__name__}: {error}")
        finally:
            connection.close()
