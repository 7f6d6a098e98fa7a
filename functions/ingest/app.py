"""Ingest: S3 ObjectCreated notifications (through SQS) start one execution per upload.

Partial batch failures: a record that raises is retried by SQS (then dead-lettered), the
others in the batch are not.
"""

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pagewise.data.mongo import database_for
from pagewise.data.storage import DocumentStore
from pagewise.data.workflow import Workflow
from pagewise.logic.ingest import accept_upload, parse_upload_key
from pagewise.observability import record_job_failed, sqs_batch_handler
from pagewise.settings import IngestSettings
from pagewise.wiring import job_repository

logger = Logger()
settings = IngestSettings.from_environment()
# A rejected upload fails its job here: that is a final status, so it is notified too.
jobs = job_repository(database_for(settings), settings)
store = DocumentStore(settings.uploads_bucket)
workflow = Workflow(settings.state_machine_arn)


def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if body.get("Event") == "s3:TestEvent":  # sent once when the notification is set up
        return
    for s3_record in body.get("Records", []):
        if not str(s3_record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        key = s3_record["s3"]["object"]["key"]
        parsed = parse_upload_key(key)
        # The job id is the correlation id of every log line about this upload.
        logger.set_correlation_id(parsed[1] if parsed else None)
        outcome = accept_upload(key, jobs, store, workflow, settings.upload_max_bytes)
        logger.info(
            "upload ingested",
            extra={"job_id": outcome.job_id, "action": outcome.action, "detail": outcome.detail},
        )
        if outcome.first_report and outcome.error_code:
            record_job_failed(outcome.error_code)


# Each record sets its job's correlation id; none leaks into the next batch.
handler = sqs_batch_handler(logger, record_handler)
