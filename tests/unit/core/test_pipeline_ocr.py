"""OcrPage in the pipeline: the document's language, found on its first pages, spares the
later pages the language probe (a quarter of a scanned page's OCR time)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pagewise.settings import PipelineSettings
from pymongo.database import Database

from .builders import a_job

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PDF = ROOT / "samples" / "contrato-2-paginas.pdf"  # page 1 text layer, page 2 a scan


@pytest.fixture
def pipeline(
    db: Database[dict[str, Any]],
    mongo_uri: str,
    aws: dict[str, str],
    tesseract_calls: tuple[str, Callable[[], list[str]]],
) -> Pipeline:
    settings = PipelineSettings.model_validate(
        {
            "MONGODB_URI": mongo_uri,
            "UPLOADS_BUCKET": aws["bucket"],
            "TESSERACT_CMD": tesseract_calls[0],
        }
    )
    return Pipeline(
        settings, JobRepository(db), PageRepository(db), ResultRepository(db),
        DocumentStore(aws["bucket"]),
    )  # fmt: skip


def _queued_job(pipeline: Pipeline, **fields: Any) -> str:
    job = a_job(status=JobStatus.QUEUED, **fields)
    job = job.model_copy(update={"upload_key": f"uploads/YWxpY2U/{job.job_id}/contrato.pdf"})
    pipeline.store.write(job.upload_key, SAMPLE_PDF.read_bytes(), "application/pdf")
    pipeline.jobs.insert(job)
    pipeline.prepare(job.job_id)
    return job.job_id


def test_later_pages_start_from_the_language_found_on_earlier_ones(
    pipeline: Pipeline, tesseract_calls: tuple[str, Callable[[], list[str]]]
) -> None:
    job_id = _queued_job(pipeline)
    pipeline.ocr_page(job_id, 1)  # the Spanish text layer: no OCR, but the language is known
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.detected_language == "es"
    pipeline.ocr_page(job_id, 2)
    calls = tesseract_calls[1]()
    assert len(calls) == 1 and "-l spa+eng " in calls[0], calls  # no English probe first
    page = pipeline.pages.get(job_id, 2)
    assert page is not None and (page.source, page.language) == ("ocr", "es")


def test_the_first_language_found_stays(pipeline: Pipeline) -> None:
    job_id = _queued_job(pipeline)
    assert pipeline.jobs.set_once(job_id, "detected_language", "es")
    assert not pipeline.jobs.set_once(job_id, "detected_language", "fr")
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.detected_language == "es"
