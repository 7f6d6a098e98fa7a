"""Retention (RetentionDays): a job carries expires_at, its page results and its
ai_extracted_content carry the same, and MongoDB's TTL indexes delete all three together; the
API says when. Also the DocumentDB client options (CA bundle from S3, retryWrites)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pymupdf
import pytest
from bson import ObjectId
from fastapi.testclient import TestClient
from pagewise.data.mongo import ca_bundle_file, client_options, ensure_indexes
from pagewise.logic.jobs import JobService
from pagewise.logic.pipeline import Pipeline
from pagewise_api.main import create_app
from pymongo.database import Database

from tests.unit.builders import (
    a_job_run_through,
    a_job_service,
    a_pipeline,
    a_token,
    api_settings,
    hs256_settings,
)

RETAINED = ("original_files", "page_results", "ai_extracted_content")
DOCDB = "mongodb://u:p@pw.cluster-abc.us-east-1.docdb.amazonaws.com:27017/"


def _one_page_pdf() -> bytes:
    document = pymupdf.open()
    page = document.new_page()
    text = "El arrendador entrega al arrendatario el inmueble descrito en la cláusula primera. "
    page.insert_textbox(pymupdf.Rect(72, 72, 520, 700), text * 12, fontsize=11)
    data: bytes = document.tobytes()
    return data


def _completed_job(pipeline: Pipeline, **fields: Any) -> str:
    """A one-page born-digital job run through every state (offline provider)."""
    return a_job_run_through(pipeline, _one_page_pdf(), until="render", **fields)


@pytest.fixture
def pipeline(
    db: Database[dict[str, Any]],
    mongo_uri: str,
    aws: dict[str, str],
) -> Pipeline:
    return a_pipeline(db, mongo_uri, aws["bucket"])


def _remaining(db: Database[dict[str, Any]], job_id: str) -> dict[str, int]:
    return {
        "original_files": db.original_files.count_documents({"_id": ObjectId(job_id)}),
        "page_results": db.page_results.count_documents({"job_id": job_id}),
        "ai_extracted_content": db.ai_extracted_content.count_documents({"document_id": job_id}),
    }


def test_each_retained_collection_has_a_ttl_index_on_expires_at(
    db: Database[dict[str, Any]],
) -> None:
    ensure_indexes(db)  # a second time: idempotent
    for name in RETAINED:
        ttl = [
            index
            for index in db[name].index_information().values()
            if index["key"] == [("expires_at", 1)]
        ]
        assert len(ttl) == 1 and ttl[0]["expireAfterSeconds"] == 0, name


def test_a_job_its_pages_and_its_result_expire_together(
    db: Database[dict[str, Any]], pipeline: Pipeline
) -> None:
    expired = datetime.now(UTC) - timedelta(minutes=1)
    gone = _completed_job(pipeline, expires_at=expired)
    kept = _completed_job(pipeline)  # RetentionDays 0: no expires_at
    for name, query in (
        ("page_results", {"job_id": gone}),
        ("ai_extracted_content", {"document_id": gone}),
    ):
        document = db[name].find_one(query)
        assert document is not None, name
        # SecantusDB keeps milliseconds, like MongoDB.
        assert abs(document["expires_at"] - expired) < timedelta(milliseconds=1), name
    assert _remaining(db, gone) == {
        "original_files": 1,
        "page_results": 1,
        "ai_extracted_content": 1,
    }

    # The TTL monitor's pass, now rather than within the minute (SecantusDB's admin command).
    db.client.admin.command("secantusAdmin.pruneTtl")

    assert _remaining(db, gone) == {
        "original_files": 0,
        "page_results": 0,
        "ai_extracted_content": 0,
    }
    assert _remaining(db, kept) == {
        "original_files": 1,
        "page_results": 1,
        "ai_extracted_content": 1,
    }


@pytest.fixture
def api_with_retention(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> Iterator[tuple[TestClient, JobService]]:
    service = a_job_service(db, aws, upload_max_bytes=1_000_000, retention_days=7)
    with TestClient(create_app(api_settings(aws), hs256_settings(), service)) as client:
        yield client, service


def test_the_api_says_when_a_job_expires(api_with_retention: tuple[TestClient, JobService]) -> None:
    api, service = api_with_retention
    headers = {"Authorization": f"Bearer {a_token()}"}
    body = {"file_name": "contrato.pdf", "content_type": "application/pdf", "file_size": 1234}
    created = api.post("/api/v1/jobs", json=body, headers=headers)
    assert created.status_code == 201
    details = api.get(created.json()["status_url"], headers=headers).json()["details"]
    expires = datetime.fromisoformat(details["expires_at"])
    assert expires - datetime.fromisoformat(details["created_at"]) == timedelta(days=7)

    service.retention_days = 0  # RetentionDays 0: kept for ever, and the API says so
    created = api.post("/api/v1/jobs", json=body, headers=headers)
    assert (
        api.get(created.json()["status_url"], headers=headers).json()["details"]["expires_at"]
        is None
    )


def test_the_ca_bundle_comes_from_s3_once_and_must_be_pem(
    aws: dict[str, str], tmp_path: Path
) -> None:
    s3 = boto3.client("s3")
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    s3.put_object(Bucket=aws["bucket"], Key="ca/global-bundle.pem", Body=pem)
    uri = f"s3://{aws['bucket']}/ca/global-bundle.pem"
    path = ca_bundle_file(uri, s3, tmp_path)
    assert Path(path).read_bytes() == pem
    s3.delete_object(Bucket=aws["bucket"], Key="ca/global-bundle.pem")
    assert ca_bundle_file(uri, s3, tmp_path) == path  # cached: no second read
    s3.put_object(Bucket=aws["bucket"], Key="ca/not-a-bundle", Body=b"<html>")
    with pytest.raises(ValueError, match="not a PEM CA bundle"):
        ca_bundle_file(f"s3://{aws['bucket']}/ca/not-a-bundle", s3, tmp_path)


@pytest.mark.parametrize(
    ("uri", "ca_file", "expected"),
    [
        # DocumentDB before 8.0.2 refuses retryable writes: off unless the URI says otherwise.
        (f"{DOCDB}?tls=true", "/tmp/ca.pem", {"tlsCAFile": "/tmp/ca.pem", "retryWrites": False}),
        (f"{DOCDB}?retryWrites=true&readPreference=secondaryPreferred", None, {}),
        ("mongodb+srv://u:p@pw.abcde.mongodb.net/", None, {}),  # Atlas: the driver's defaults
        ("mongodb://127.0.0.1:27017/?retryWrites=false", None, {}),
    ],
)  # fmt: skip
def test_client_options_for_documentdb_and_atlas(
    uri: str, ca_file: str | None, expected: dict[str, Any]
) -> None:
    # Reads from the primary always: a function reads what another has just written.
    assert client_options(uri, ca_file) == {"readPreference": "primary", **expected}
