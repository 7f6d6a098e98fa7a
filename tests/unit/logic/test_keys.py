"""Keys made from a caller's file name: bounded in bytes, never a path (issue 14, item 6)."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest
from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore, content_disposition
from pagewise.logic.keys import safe_file_name
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pagewise.settings import PipelineSettings
from pagewise.variants import output_key
from pymongo.database import Database

from tests.unit.builders import a_job

HOSTILE_NAMES = [
    "../../../outputs/mallory/x.pdf",
    "..\\..\\evil.pdf",
    "..",
    "a\r\nb\x00c.pdf",
    "契約書" * 85 + ".pdf",
    "x" * 255,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_key_parts_hold_no_path_and_fit_in_s3s_limit(name: str) -> None:
    for part in (safe_file_name(name), output_key("t", "j", name, "report").split("/", 3)[3]):
        assert "/" not in part and "\\" not in part and part not in ("", ".", "..")
        assert not part.startswith("..") and all(ch.isprintable() for ch in part)
        assert len(part.encode()) <= 200
    assert safe_file_name("contrato.final.pdf") == "contrato.final.pdf"
    assert (
        output_key("t", "j", "contrato.pdf", "report") == "outputs/dA/j/contrato_translated.pdf"
    )  # dA: "t"


def test_content_disposition_falls_back_to_ascii() -> None:
    assert content_disposition("São_translated.pdf") == (
        "attachment; filename=\"S_o_translated.pdf\"; filename*=UTF-8''S%C3%A3o_translated.pdf"
    )


def test_render_writes_under_the_jobs_own_prefix_whatever_the_file_name(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    settings = PipelineSettings.model_validate(
        {"MONGODB_URI": "mongodb://unused", "UPLOADS_BUCKET": aws["bucket"]}
    )
    pipeline = Pipeline(
        settings,
        JobRepository(db),
        PageRepository(db),
        ResultRepository(db),
        DocumentStore(aws["bucket"]),
    )
    job = a_job("alice", JobStatus.SUMMARISING, file_name="../../../" + "契約" * 200 + ".pdf")
    pipeline.jobs.insert(job)
    with pymupdf.open() as source:
        source.new_page().insert_text((72, 72), "Hola")
        pipeline.store.write(job.upload_key, source.tobytes(), "application/pdf")
    pipeline.pages.save(
        job.job_id,
        1,
        source="text_layer",
        ocr_text="Hola",
        legal_english="Hello",
        plain_english="Hi",
        translated=True,
    )
    rendered = pipeline.render(job.job_id)
    assert rendered.output_key.startswith(f"outputs/YWxpY2U/{job.job_id}/")
    rest = rendered.output_key.removeprefix(f"outputs/YWxpY2U/{job.job_id}/")
    assert "/" not in rest and ".." not in rest and rest.endswith("_translated.pdf")
    assert len(rendered.output_key.encode()) <= 1024
    assert pipeline.store.head(rendered.output_key) is not None
