"""The OCR path on the local stack uses only what the OCR layer ships, as in AWS: Tesseract in
process (tesserocr) with the layer's traineddata; no subprocess, no host tessdata. Without
the layer the function cannot start (Runtime.ImportModuleError); with the engine's data
pointed elsewhere a scanned page fails the job with ocr_engine_missing, never falling back to
what the host has installed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pagewise_client.api import PagewiseClient

from tests.stack import (
    aws_client,
    function_reconfigured,
    outputs,
    physical_id,
    require_stack,
    stack_client,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"  # page 1 a text layer, page 2 a scan
ENGINE = re.compile(r"tesserocr \d+\.\d+\.\d+ / tesseract 5\.\d+\.\d+")
pytestmark = pytest.mark.integration


def _run_job(tenant: str) -> tuple[PagewiseClient, str, dict[str, Any]]:
    client = stack_client(tenant)
    created = client.create_job(SAMPLE, source_language="es")
    client.upload(created["upload"], SAMPLE)
    return client, created["job_id"], client.wait(created["job_id"], timeout_seconds=240)


def _delete_layouts(job_id: str) -> None:
    s3, bucket = aws_client("s3"), outputs()["UploadsBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"work/{job_id}/")
    for item in listed.get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])


def test_a_scan_is_read_in_process_by_the_layers_engine(tmp_path: Path) -> None:
    require_stack()
    # An empty PATH: no tesseract binary (or any other) the OCR could shell out to.
    empty = tmp_path / "empty-path"
    empty.mkdir()
    with function_reconfigured("OcrPageFunction", environment={"PATH": str(empty)}):
        client, job_id, final = _run_job("ocr-engine-layer")
    try:
        assert final["details"]["processing_status"] == "completed", final["details"]
        pages = {page["page"]: page for page in client.result(job_id)["page_results"]}
        assert pages[1]["source"] == "text_layer" and pages[1]["ocr_engine"] is None
        assert pages[2]["source"] == "ocr", pages[2]
        assert ENGINE.fullmatch(pages[2]["ocr_engine"]), pages[2]
        assert "juzgados de Madrid" in " ".join(pages[2]["ocr_text"].split())
        # The scanned page's layout, in PDF points, where the outputs built on it read it.
        body = aws_client("s3").get_object(
            Bucket=outputs()["UploadsBucketName"], Key=f"work/{job_id}/layout/page-00002.json"
        )["Body"]
        layout = json.loads(body.read())
        assert layout["source"] == "ocr" and layout["blocks"][0]["id"] == "b1"
        words = [w for b in layout["blocks"] for line in b["lines"] for w in line["words"]]
        assert all(0 <= w["box"]["x0"] <= w["box"]["x1"] <= layout["width"] for w in words)
    finally:
        _delete_layouts(job_id)
        client.cancel(job_id)


def test_without_its_traineddata_a_scan_fails_ocr_engine_missing(tmp_path: Path) -> None:
    require_stack()
    # The function's own setting points the engine at an empty folder: the host's
    # /usr/share/tesseract-ocr packs must not be used instead.
    empty = tmp_path / "tessdata"
    empty.mkdir()
    with function_reconfigured("OcrPageFunction", environment={"OCR_DATA_DIR": str(empty)}):
        client, job_id, final = _run_job("ocr-engine-missing")
    details = final["details"]
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == "ocr_engine_missing"
    assert str(empty) in details["error_message"]
    client.cancel(job_id)


def test_without_the_ocr_layer_the_function_cannot_start() -> None:
    require_stack()
    lambda_ = aws_client("lambda")
    name = physical_id("OcrPageFunction")
    layers = lambda_.get_function_configuration(FunctionName=name)["Layers"]
    without = [layer["Arn"] for layer in layers if ":layer:OcrLayer" not in layer["Arn"]]
    assert len(without) == len(layers) - 1, layers
    with function_reconfigured("OcrPageFunction", layers=without):
        response = lambda_.invoke(
            FunctionName=name, Payload=json.dumps({"job_id": "0" * 24, "page": 1})
        )
    error = json.loads(response["Payload"].read())
    assert response.get("FunctionError"), error
    assert error["errorType"] == "Runtime.ImportModuleError", error
    assert "tesserocr" in error["errorMessage"], error
