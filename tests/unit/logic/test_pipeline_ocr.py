"""OcrPage in the pipeline: the document's language, found on its first pages, spares the
later pages the language probe (a quarter of a scanned page's OCR time); an OCR'd page names
its engine and leaves its layout in S3."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pagewise.data.jobs import JobRepository
from pagewise.data.layouts import LayoutStore
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.documents.ocr import ENGINE_NAME
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pagewise.settings import PipelineSettings
from pymongo.database import Database

from tests.unit.builders import a_job
from tests.unit.conftest import SpyEngine

EngineCalls = tuple[SpyEngine, Callable[[], list[str]]]

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PDF = ROOT / "samples" / "contrato-2-paginas.pdf"  # page 1 text layer, page 2 a scan


@pytest.fixture
def pipeline(
    db: Database[dict[str, Any]],
    mongo_uri: str,
    aws: dict[str, str],
    engine_calls: EngineCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> Pipeline:
    # The pipeline's engine is the process's shared one: watch it.
    monkeypatch.setattr(
        "pagewise.documents.ocr.extract.shared_engine", lambda data_dir=None: engine_calls[0]
    )
    settings = PipelineSettings.model_validate(
        {"MONGODB_URI": mongo_uri, "UPLOADS_BUCKET": aws["bucket"]}
    )
    return Pipeline(
        settings, JobRepository(db), PageRepository(db), ResultRepository(db),
        DocumentStore(aws["bucket"]),
    )  # fmt: skip


def _queued_job(pipeline: Pipeline, **fields: Any) -> str:
    job = a_job(status=JobStatus.QUEUED, **fields)
    job = job.model_copy(update={"upload_key": f"uploads/alice/{job.job_id}/contrato.pdf"})
    pipeline.store.write(job.upload_key, SAMPLE_PDF.read_bytes(), "application/pdf")
    pipeline.jobs.insert(job)
    pipeline.prepare(job.job_id)
    return job.job_id


def test_later_pages_start_from_the_language_found_on_earlier_ones(
    pipeline: Pipeline, engine_calls: EngineCalls
) -> None:
    job_id = _queued_job(pipeline)
    pipeline.ocr_page(job_id, 1)  # the Spanish text layer: no OCR, but the language is known
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.detected_language == "es"
    pipeline.ocr_page(job_id, 2)
    calls = engine_calls[1]()
    assert len(calls) == 1 and "-l spa+eng " in calls[0], calls  # no English probe first
    page = pipeline.pages.get(job_id, 2)
    assert page is not None and (page.source, page.language) == ("ocr", "es")


def test_an_ocrd_page_names_its_engine_and_stores_its_layout(pipeline: Pipeline) -> None:
    job_id = _queued_job(pipeline)
    pipeline.ocr_page(job_id, 1)  # the text layer: no engine, no OCR layout
    pipeline.ocr_page(job_id, 2)  # the scan
    text_page, scanned = pipeline.pages.get(job_id, 1), pipeline.pages.get(job_id, 2)
    assert text_page is not None and scanned is not None
    assert (text_page.ocr_engine, scanned.ocr_engine) == (None, ENGINE_NAME)
    layouts = LayoutStore(pipeline.store)
    assert layouts.load(job_id, 1) is None
    layout = layouts.load(job_id, 2)
    assert layout is not None and layout.source == "ocr" and layout.blocks
    assert " ".join(layout.text.split()) == " ".join((scanned.ocr_text or "").split())


def test_the_first_language_found_stays(pipeline: Pipeline) -> None:
    job_id = _queued_job(pipeline)
    assert pipeline.jobs.set_once(job_id, "detected_language", "es")
    assert not pipeline.jobs.set_once(job_id, "detected_language", "fr")
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.detected_language == "es"
