"""Fixtures shared by the unit suites: a real MongoDB-wire server (SecantusDB, in memory) and
moto for S3 and Step Functions (api, logic, data, handlers), and the OCR layer's engine
(documents, logic)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pagewise.documents.ocr.engine import (
    OcrEngine,
    Recognition,
    TesserocrEngine,
    layer_data_dir,
    shared_engine,
)
from pagewise.documents.ocr.raster import Raster
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.secantus import start_in_memory_secantus, stop_secantus

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "functions" / "api"))

from pagewise.data.mongo import ensure_indexes  # noqa: E402

BUCKET = "unit-uploads"


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    try:
        process, uri = start_in_memory_secantus()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield uri
    stop_secantus(process)


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


class SpyEngine:
    """The real engine, logging each pass as the Tesseract CLI arguments it stands for
    (``-l spa+eng --psm 3 --dpi 300``; OSD is ``-l osd --psm 0 ...``)."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    def recognise(
        self, image: Raster, *, languages: str, dpi: int, timeout: float | None
    ) -> Recognition:
        self.calls.append(f"-l {languages} --psm 3 --dpi {dpi}")
        return self.inner.recognise(image, languages=languages, dpi=dpi, timeout=timeout)

    def orientation(self, image: Raster, *, dpi: int, min_characters: int) -> tuple[int, float]:
        self.calls.append(f"-l osd --psm 0 --dpi {dpi}")
        return self.inner.orientation(image, dpi=dpi, min_characters=min_characters)


@pytest.fixture(scope="session")
def layer_engine() -> TesserocrEngine:
    """The engine with the OCR layer's traineddata, which `make dev` puts beside the dev
    venv's tesserocr exactly where the layer has them (tessdata/ next to python/)."""
    packs = sorted(path.name for path in layer_data_dir().glob("*.traineddata"))
    if "osd.traineddata" not in packs or "spa.traineddata" not in packs:
        pytest.fail(f"no OCR layer traineddata in {layer_data_dir()}: run `make dev`")
    return shared_engine()


@pytest.fixture
def engine_calls(layer_engine: TesserocrEngine) -> tuple[SpyEngine, Callable[[], list[str]]]:
    """An engine that logs its passes and runs the real one: (engine, calls())."""
    spy = SpyEngine(layer_engine)
    return spy, lambda: list(spy.calls)
