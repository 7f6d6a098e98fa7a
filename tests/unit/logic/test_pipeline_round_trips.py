"""TranslatePage's MongoDB round trips: only a page that finds the job before
`translation_started` moves it there; the job still ends `translation_completed`."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pymongo.database import Database

from tests.unit.builders import a_job, a_pipeline

CLAUSE = "El arrendatario pagará la renta mensual dentro de los cinco primeros días del mes."


def _born_digital(pages: int) -> bytes:
    with pymupdf.open() as doc:
        for _ in range(pages):
            page = doc.new_page(width=595, height=842)
            page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), CLAUSE * 4, fontsize=11)
        return bytes(doc.tobytes())


@pytest.fixture
def pipeline(db: Database[dict[str, Any]], mongo_uri: str, aws: dict[str, str]) -> Pipeline:
    return a_pipeline(db, mongo_uri, aws["bucket"])


def test_only_the_first_translated_page_moves_the_job_to_translation_started(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = a_job(status=JobStatus.QUEUED, source_language="es")
    job = job.model_copy(update={"upload_key": f"uploads/alice/{job.job_id}/contrato.pdf"})
    pipeline.store.write(job.upload_key, _born_digital(3), "application/pdf")
    pipeline.jobs.insert(job)
    pipeline.prepare(job.job_id)
    for page in (1, 2, 3):
        pipeline.ocr_page(job.job_id, page)

    moves: list[JobStatus] = []
    advance = pipeline.jobs.advance

    def recorded(job_id: str, to: JobStatus, **fields: Any) -> Any:
        moves.append(to)
        return advance(job_id, to, **fields)

    monkeypatch.setattr(pipeline.jobs, "advance", recorded)
    pipeline.translate_page(job.job_id, 1)
    assert moves == [JobStatus.OCR_COMPLETED, JobStatus.TRANSLATION_STARTED]
    moves.clear()
    pipeline.translate_page(job.job_id, 2)
    assert moves == []  # the job was at translation_started: no compare-and-set to try
    pipeline.translate_page(job.job_id, 3)
    assert moves == [JobStatus.TRANSLATION_COMPLETED]
    done = pipeline.jobs.get(job.job_id)
    assert done is not None and done.processing_status == JobStatus.TRANSLATION_COMPLETED
    assert done.pages_translated == 3
