"""The routes a client uses besides the main flow, through the deployed API Gateway: health,
the old one-shot upload, the job list, and DELETE (cancel a running job, delete a finished one
with its files)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from bson import ObjectId
from pagewise_client.api import PagewiseClient
from pymongo import MongoClient

from tests.stack import MONGODB_URI, aws_client, new_tenant, outputs, stack_client

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"
pytestmark = pytest.mark.e2e


@pytest.fixture
def client() -> PagewiseClient:
    # A tenant of its own per test: lists and deletions see nothing else.
    return stack_client(new_tenant("e2e-routes"))


def _headers(client: PagewiseClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


def _object_exists(key: str) -> bool:
    try:
        aws_client("s3").head_object(Bucket=outputs()["UploadsBucketName"], Key=key)
    except ClientError:
        return False
    return True


def _wait_for(client: PagewiseClient, job_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.status(job_id)
        if status["details"]["processing_status"] in statuses:
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {statuses}: {status['details']}")


def test_health_answers_without_a_token(client: PagewiseClient) -> None:
    response = requests.get(f"{client.base_url}/api/v1/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["checks"] == {"mongodb": "ok", "s3": "ok"}


def test_the_one_shot_upload_queues_the_job_and_lists_it(client: PagewiseClient) -> None:
    response = requests.post(
        f"{client.base_url}/api/v1/jobs/upload",
        headers=_headers(client),
        files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "application/pdf")},
        data={"report_id": "R-42"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["report_id"] == "R-42"
    assert body["file_name"] == SAMPLE.name
    listed = requests.get(f"{client.base_url}/api/v1/jobs", headers=_headers(client), timeout=30)
    assert [job["job_id"] for job in listed.json()["jobs"]] == [body["job_id"]]
    final = client.wait(body["job_id"], timeout_seconds=180)
    assert final["details"]["processing_status"] == "completed"


def test_delete_cancels_a_running_job_and_stops_its_execution(client: PagewiseClient) -> None:
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    client.upload(created["upload"], SAMPLE)
    _wait_for(client, job_id, {"queued", "processing", "ocr_started"})
    response = requests.delete(
        f"{client.base_url}/api/v1/jobs/{job_id}", headers=_headers(client), timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"job_id": job_id, "outcome": "cancelled"}
    status = client.status(job_id)
    assert status["details"]["processing_status"] == "failed"
    assert status["details"]["error_code"] == "cancelled"
    # The execution stops too (or, started a moment later, ends on seeing the cancelled job);
    # either way nothing moves the job out of `failed`.
    deadline = time.monotonic() + 60
    while status["workflow"]["state"] in ("PENDING", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.5)
        status = client.status(job_id)
    assert status["workflow"]["state"] in ("ABORTED", "FAILED"), status["workflow"]
    assert status["details"]["processing_status"] == "failed"
    assert status["details"]["error_code"] == "cancelled"
    # Cancelling loses nothing: the upload stays until the job is deleted.
    assert _object_exists(created["upload"]["fields"]["key"])


def test_delete_removes_a_finished_job_and_its_files(client: PagewiseClient) -> None:
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    client.upload(created["upload"], SAMPLE)
    final = client.wait(job_id, timeout_seconds=180)
    assert final["details"]["processing_status"] == "completed"
    output_key = final["details"]["output_pdf_path"]
    upload_key = created["upload"]["fields"]["key"]
    assert _object_exists(output_key) and _object_exists(upload_key)
    response = requests.delete(
        f"{client.base_url}/api/v1/jobs/{job_id}", headers=_headers(client), timeout=30
    )
    assert response.json() == {"job_id": job_id, "outcome": "deleted"}
    assert not _object_exists(output_key) and not _object_exists(upload_key)
    gone = requests.get(
        f"{client.base_url}/api/v1/jobs/{job_id}", headers=_headers(client), timeout=30
    )
    assert gone.status_code == 404


def test_a_job_says_when_it_expires_and_mongodb_will_delete_it(client: PagewiseClient) -> None:
    # samconfig.toml's local stack sets RetentionDays=7: the template hands it to the API, and
    # the API's cold start made the TTL indexes that delete the job then.
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    details = client.status(job_id)["details"]
    expires = datetime.fromisoformat(details["expires_at"])
    assert expires - datetime.fromisoformat(details["created_at"]) == timedelta(days=7)
    with MongoClient(MONGODB_URI) as mongo:
        jobs = mongo["pagewise"].original_files
        document = jobs.find_one({"_id": ObjectId(job_id)})
        indexes = jobs.index_information().values()
    assert document is not None and "expires_at" in document
    ttl = [index for index in indexes if index["key"] == [("expires_at", 1)]]
    assert ttl and ttl[0]["expireAfterSeconds"] == 0
    response = requests.delete(
        f"{client.base_url}/api/v1/jobs/{job_id}", headers=_headers(client), timeout=30
    )
    assert response.status_code == 200
