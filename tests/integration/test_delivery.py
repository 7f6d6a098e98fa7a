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
from pymongo import MongoClient

from tests.stack import MONGODB_URI, aws_client, new_tenant, outputs, stack_client

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
STACK = ROOT / "localstack" / "stack.sh"
pytestmark = pytest.mark.integration


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
    client = stack_client(new_tenant("delivery"))
    created = client.create_job(SAMPLE)
    job_id, key = created["job_id"], created["upload"]["fields"]["key"]
    client.upload(created["upload"], SAMPLE)
    sqs = aws_client("sqs")
    queue = outputs()["UploadsQueueUrl"]
    for _ in range(2):  # S3's own notification plus two duplicates, while the job runs
        sqs.send_message(QueueUrl=queue, MessageBody=_notification(key))
    final = client.wait(job_id, timeout_seconds=180)
    assert final["details"]["processing_status"] == "completed", final["details"]
    # The same message redelivered after the job finished (a visibility timeout that ran out).
    sqs.send_message(QueueUrl=queue, MessageBody=_notification(key))
    time.sleep(3)
    assert client.status(job_id)["details"]["processing_status"] == "completed"
    _assert_consistent(job_id, pages=2)


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
    client = stack_client(new_tenant("delivery"))
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
    client = stack_client(new_tenant("delivery"))
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    client.upload(created["upload"], SAMPLE)
    deadline = time.monotonic() + 60
    while client.status(job_id)["details"]["processing_status"] in ("awaiting_upload", "queued"):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    with _mongo_down():
        time.sleep(3)
    final = client.wait(job_id, timeout_seconds=240)
    assert final["details"]["processing_status"] == "completed", final["details"]
    _assert_consistent(job_id, pages=2)
