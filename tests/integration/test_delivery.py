"""At-least-once delivery without duplicates or losses: the same S3 notification delivered
again (before and after the job finished) gives one execution and one set of page results; a
notification that cannot be ingested lands in the dead-letter queue, and `make redrive` sends
it back; MongoDB restarting in the middle of a job does not lose it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pagewise_client.api import PagewiseClient
from pymongo import MongoClient

from tests.stack import (
    MONGODB_URI,
    aws_client,
    execution_history,
    new_tenant,
    outputs,
    stack_client,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
STACK = ROOT / "localstack" / "stack.sh"
pytestmark = pytest.mark.integration


def _client() -> PagewiseClient:
    return stack_client(new_tenant("delivery"))


def _notification(key: str) -> str:
    """The body S3 sends to SQS for an upload (the fields ingest reads, as S3 writes them)."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventName": "ObjectCreated:Post",
                    "s3": {
                        "bucket": {"name": outputs()["UploadsBucketName"]},
                        "object": {"key": key, "size": SAMPLE.stat().st_size},
                    },
                }
            ]
        }
    )


def _executions_named(job_id: str) -> int:
    sfn = aws_client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=outputs()["StateMachineArn"]
    )
    return sum(
        1 for page in pages for execution in page["executions"] if execution["name"] == job_id
    )


def _database() -> Any:
    return MongoClient(MONGODB_URI)["pagewise"]


def _assert_consistent(job_id: str, pages: int) -> None:
    db = _database()
    job = db.original_files.find_one({"_id": ObjectId(job_id)})
    assert job is not None
    history = [change["status"] for change in job["status_history"]]
    assert len(history) == len(set(history)), history
    assert db.page_results.count_documents({"job_id": job_id}) == pages
    assert _executions_named(job_id) == 1


def test_duplicate_notifications_give_one_execution() -> None:
    client = _client()
    created = client.create_job(SAMPLE)
    job_id, key = created["job_id"], created["upload"]["fields"]["key"]
    client.upload(created["upload"], SAMPLE)
    sqs = aws_client("sqs")
    queue = outputs()["UploadsQueueUrl"]
    for _ in range(2):  # S3's own notification plus two duplicates, while the job runs
        sqs.send_message(QueueUrl=queue, MessageBody=_notification(key))
    final = client.wait(job_id, timeout_seconds=180)
    assert final["details"]["processing_status"] == "completed", final["details"]
    before = _database().original_files.find_one({"_id": ObjectId(job_id)})
    # The same message redelivered after the job finished (a visibility timeout that ran out).
    sqs.send_message(QueueUrl=queue, MessageBody=_notification(key))
    # Ingest has handled it once the queue holds nothing, visible or in flight (the event
    # source deletes a message its batch handled); nothing it did may show on the job.
    wait_until(lambda: _queue_empty(queue), 60, "Ingest consumed the redelivered message")
    after = _database().original_files.find_one({"_id": ObjectId(job_id)})
    assert after is not None and before is not None
    assert after["processing_status"] == "completed"
    assert (after["updated_at"], after["status_history"]) == (
        before["updated_at"],
        before["status_history"],
    )
    _assert_consistent(job_id, pages=2)


def _queue_empty(url: str) -> bool:
    counts = aws_client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in counts.values())


@contextmanager
def _queue_attributes(url: str, **attributes: str) -> Iterator[None]:
    sqs = aws_client("sqs")
    names = list(attributes)
    original = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=original)


def _dlq_messages() -> list[str]:
    sqs = aws_client("sqs")
    response = sqs.receive_message(
        QueueUrl=outputs()["UploadsDeadLetterQueueUrl"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        WaitTimeSeconds=1,
    )
    return [message["Body"] for message in response.get("Messages", [])]


def _stack(command: str) -> None:
    subprocess.run(["bash", str(STACK), command], check=True, capture_output=True)


@contextmanager
def _mongo_down() -> Iterator[None]:
    _stack("mongo-stop")
    try:
        yield
    finally:
        _stack("mongo-start")


def test_an_upload_that_cannot_be_ingested_is_dead_lettered_then_redriven() -> None:
    client = _client()
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    queue = outputs()["UploadsQueueUrl"]
    dlq_arn = aws_client("sqs").get_queue_attributes(
        QueueUrl=outputs()["UploadsDeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    # MongoDB is down while the upload arrives: ingest fails, SQS gives up after one receive.
    with _queue_attributes(queue, VisibilityTimeout="2", RedrivePolicy=redrive), _mongo_down():
        client.upload(created["upload"], SAMPLE)
        deadline = time.monotonic() + 120
        while not any(job_id in body for body in _dlq_messages()):
            assert time.monotonic() < deadline, "the notification never reached the DLQ"
            time.sleep(1)
    assert client.status(job_id)["details"]["processing_status"] == "awaiting_upload"
    subprocess.run(["make", "-s", "-C", str(ROOT), "redrive"], check=True, capture_output=True)
    final = client.wait(job_id, timeout_seconds=180)
    assert final["details"]["processing_status"] == "completed", final["details"]
    _assert_consistent(job_id, pages=2)


def test_mongodb_restarting_during_a_job_loses_nothing() -> None:
    client = _client()
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    client.upload(created["upload"], SAMPLE)
    wait_until(
        lambda: (
            client.status(job_id)["details"]["processing_status"]
            not in ("awaiting_upload", "queued")
        ),
        60,
        "the job started",
    )
    # Down for longer than the functions' own MongoDB timeout (MONGODB_TIMEOUT_MS, 5 s): a
    # step must fail on it and be retried by the state machine; MongoDB comes back once the
    # execution's history shows that failure (the API itself needs MongoDB, the history not).
    with _mongo_down():
        failure = wait_until(
            lambda: _mongo_failure(job_id), 120, "a step failed on MongoDB being down"
        )
    final = client.wait(job_id, timeout_seconds=240)
    assert final["details"]["processing_status"] == "completed", final["details"]
    _assert_consistent(job_id, pages=2)
    # The failed attempt was retried: its state was scheduled again after it and succeeded.
    events = execution_history(job_id)
    later = [event for event in events if event["id"] > failure["id"]]
    assert any(event["type"] == "TaskScheduled" for event in later), failure
    assert any(event["type"] == "TaskSucceeded" for event in later), failure


MONGO_ERRORS = (
    "ServerSelectionTimeoutError",
    "AutoReconnect",
    "NetworkTimeout",
    "ConnectionFailure",
)


def _mongo_failure(job_id: str) -> dict[str, Any] | None:
    for event in execution_history(job_id, ended=False):  # while the job runs
        details = event.get("taskFailedEventDetails") or {}
        if event["type"] == "TaskFailed" and details.get("error") in MONGO_ERRORS:
            return event
    return None
