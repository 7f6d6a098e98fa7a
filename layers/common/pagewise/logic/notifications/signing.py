"""The webhook signatures: what Pagewise sends and what a receiver checks.

- Standard Webhooks (https://www.standardwebhooks.com/), so that a receiver can verify with
  any of its libraries: ``webhook-id`` (one per message, the same on every retry),
  ``webhook-timestamp`` (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256(key,
  f"{id}.{timestamp}.{raw body}")>``. The receiver's secret is ``whsec_<base64 key>``
  (``receiver_secret``).
- The older ``X-Pagewise-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  f"{t}.{raw body}")>``, kept (deprecated) for receivers that verify it already.

Both are made with the one configured secret: a value ``whsec_<base64>`` is that key; any
other value is its UTF-8 bytes (so the old header and the new one share a key, and an existing
deployment moves without a new secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Pagewise-Signature"
EVENT_HEADER = "X-Pagewise-Event"
DELIVERY_HEADER = "X-Pagewise-Delivery"
# A receiver should refuse a signature older than this (replays of a captured request).
SIGNATURE_TOLERANCE_SECONDS = 300
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature for the configured secret."""
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as error:
            raise ValueError("a whsec_ secret must be base64 after its prefix") from error
        if key:
            return key
        raise ValueError("the whsec_ secret is empty")
    return secret.encode()


def receiver_secret(secret: str) -> str:
    """The secret to give a receiver for its Standard Webhooks library: ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(signing_key(secret)).decode()


def standard_webhook_headers(
    secret: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent at ``timestamp``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return {
        WEBHOOK_ID_HEADER: message_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: "v1," + base64.b64encode(digest).decode(),
    }


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The (deprecated) ``X-Pagewise-Signature`` value for ``body`` sent at ``timestamp``."""
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
