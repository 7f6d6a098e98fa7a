"""Telling the job's creator it finished: an email to the token's address and a signed webhook.

By concern: ``urls`` (which callback URLs may be called: the SSRF guard), ``signing`` (the
webhook signature), ``messages`` (what the email and the webhook say) and ``delivery`` (the
Notifier, which sends what a finished job still owes and records it on the job).
"""

from pagewise.logic.notifications.delivery import (
    DeliveryIncomplete,
    EmailSender,
    NotificationLedger,
    Notifier,
    WebhookPoster,
    WebhookResponse,
    retry_delay,
)
from pagewise.logic.notifications.messages import (
    EmailClaim,
    clean_email,
    email_claim,
    email_message,
    webhook_payload,
)
from pagewise.logic.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    receiver_secret,
    sign,
    signing_key,
    standard_webhook_headers,
    verify,
)
from pagewise.logic.notifications.urls import (
    MAX_CALLBACK_URL_LENGTH,
    CallbackUrlRefused,
    check_callback_url,
    check_resolved_addresses,
)

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_CALLBACK_URL_LENGTH",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "WEBHOOK_ID_HEADER",
    "WEBHOOK_SIGNATURE_HEADER",
    "WEBHOOK_TIMESTAMP_HEADER",
    "CallbackUrlRefused",
    "DeliveryIncomplete",
    "EmailClaim",
    "EmailSender",
    "NotificationLedger",
    "Notifier",
    "WebhookPoster",
    "WebhookResponse",
    "check_callback_url",
    "check_resolved_addresses",
    "clean_email",
    "email_claim",
    "email_message",
    "receiver_secret",
    "retry_delay",
    "sign",
    "signing_key",
    "standard_webhook_headers",
    "verify",
    "webhook_payload",
]
