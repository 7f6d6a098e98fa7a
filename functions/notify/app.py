"""Notify: a finished job's email (SES) and signed webhook, from the notifications queue.

The records of a batch are delivered at once, each on its own thread of a bounded pool
(``NOTIFY_CONCURRENCY``), and each webhook call has a wall-clock deadline
(``WEBHOOK_TIMEOUT_SECONDS``): one tenant's slow receiver never holds another's notification.
A record whose webhook (or email) did not get through fails, alone (partial batch
response), and comes back after an exponential backoff set on its visibility; after the
queue's maxReceiveCount it goes to the dead-letter queue. What was delivered is recorded on
the job, so a redelivery never sends the email twice.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pagewise.data.jobs import JobRepository
from pagewise.data.mongo import database_for
from pagewise.data.notifications import HttpWebhookPoster, NotificationQueue, SesEmailSender
from pagewise.data.secrets import webhook_secret
from pagewise.events import JobPointer
from pagewise.logic.notifications import DeliveryIncomplete, Notifier, retry_delay
from pagewise.observability import sqs_batch_handler
from pagewise.settings import NotifySettings

logger = Logger()
settings = NotifySettings.from_environment()
deliveries = ThreadPoolExecutor(settings.delivery_concurrency, thread_name_prefix="notify")
queue = NotificationQueue(settings.notifications_queue_url or "")


def _secret() -> str:
    secret = webhook_secret(settings)
    if not secret:
        raise RuntimeError("no webhook signing secret configured")
    return secret


notifier = Notifier(
    ledger=JobRepository(database_for(settings)),
    # No sender configured: webhooks only.
    email=SesEmailSender(settings.from_email) if settings.from_email else None,
    webhook=HttpWebhookPoster(settings.webhook_timeout_seconds, settings.allow_local_callbacks),
    secret=_secret,
    api_url=settings.public_api_url,
)


def deliver(record: SQSRecord) -> None:
    """One record, on a pool thread: the job id goes on each log line (not as the logger's
    correlation id, which the records delivered beside it would overwrite)."""
    pointer = JobPointer.model_validate_json(record.body)
    try:
        outcome = notifier.deliver(pointer.job_id)
    except DeliveryIncomplete as error:
        receives = int(record.attributes.approximate_receive_count or 1)
        delay = retry_delay(receives, settings.retry_base_seconds, settings.retry_max_seconds)
        logger.warning(
            "notification incomplete; retrying",
            extra={
                "job_id": pointer.job_id,
                "problem": str(error),
                "receive_count": receives,
                "retry_in_s": delay,
            },
        )
        if settings.notifications_queue_url:
            try:
                queue.redeliver_after(record.receipt_handle, delay)
            except Exception:  # then it comes back after the queue's visibility timeout
                logger.exception("could not set the retry delay", extra={"job_id": pointer.job_id})
        raise
    logger.info("notified", extra=outcome)


async def record_handler(record: SQSRecord) -> None:
    await asyncio.get_running_loop().run_in_executor(deliveries, deliver, record)


handler = sqs_batch_handler(logger, record_handler)
