"""Fixtures of the core unit tests: a real MongoDB-wire server (SecantusDB, in memory) and
moto for S3 and Step Functions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pymongo import MongoClient
from pymongo.database import Database

ROOT = Path(__file__).resolve().parents[3]
SECANTUS = ROOT / ".venvs" / "secantus" / "bin" / "secantusd-py"
sys.path.insert(0, str(ROOT / "functions" / "api"))

from fastapi.testclient import TestClient  # noqa: E402
from pagewise.data.glossaries import GlossaryRepository  # noqa: E402
from pagewise.data.jobs import JobRepository  # noqa: E402
from pagewise.data.mongo import ensure_indexes  # noqa: E402
from pagewise.data.pages import PageRepository  # noqa: E402
from pagewise.data.results import ResultRepository  # noqa: E402
from pagewise.data.storage import DocumentStore  # noqa: E402
from pagewise.data.usage import UsageRepository  # noqa: E402
from pagewise.data.workflow import Workflow  # noqa: E402
from pagewise.logic.glossaries import GlossaryService  # noqa: E402
from pagewise.logic.jobs import JobService  # noqa: E402
from pagewise.logic.usage import UsageService  # noqa: E402
from pagewise.settings import ApiSettings, JwtSettings  # noqa: E402
from pagewise_api.main import create_app  # noqa: E402

from .builders import AUDIENCE, ISSUER, MAX_BYTES, SECRET  # noqa: E402

BUCKET = "unit-uploads"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    if not SECANTUS.exists():
        pytest.fail("SecantusDB is not installed: run `make setup`")
    port = _free_port()
    process = subprocess.Popen(
        [str(SECANTUS), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false"
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.admin.command("ping")
            break
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("SecantusDB did not start")
            time.sleep(0.2)
    client.close()
    yield uri
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def db(mongo_uri: str) -> Iterator[Database[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    database = client[f"unit_{uuid.uuid4().hex[:12]}"]
    ensure_indexes(database)
    yield database
    client.drop_database(database.name)
    client.close()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto S3 + Step Functions, with a bucket and a state machine."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        arn = boto3.client("stepfunctions").create_state_machine(
            name="unit-pipeline",
            definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn="arn:aws:iam::123456789012:role/unit",
        )["stateMachineArn"]
        yield {"bucket": BUCKET, "state_machine_arn": arn}


@pytest.fixture
def api(db: Database[dict[str, Any]], aws: dict[str, str]) -> Iterator[TestClient]:
    settings = ApiSettings.model_validate(
        {
            "MONGODB_URI": "mongodb://unused",
            "UPLOADS_BUCKET": aws["bucket"],
            "STATE_MACHINE_ARN": aws["state_machine_arn"],
            "UPLOAD_MAX_BYTES": str(MAX_BYTES),
            "MAX_REQUEST_BYTES": "200000",
        }
    )
    jwt_settings = JwtSettings.model_validate(
        {
            "JWT_ALGORITHMS": "HS256",
            "JWT_SECRET": SECRET,
            "JWT_ISSUER": ISSUER,
            "JWT_AUDIENCE": AUDIENCE,
        }
    )
    service = JobService(
        jobs=JobRepository(db),
        pages=PageRepository(db),
        results=ResultRepository(db),
        store=DocumentStore(aws["bucket"]),
        workflow=Workflow(aws["state_machine_arn"]),
        upload_max_bytes=MAX_BYTES,
        upload_expiry_seconds=900,
        download_expiry_seconds=60,
        glossaries=GlossaryRepository(db),
    )
    app = create_app(
        settings,
        jwt_settings,
        service,
        GlossaryService(GlossaryRepository(db)),
        UsageService(UsageRepository(db)),
    )
    with TestClient(app) as client:
        yield client
