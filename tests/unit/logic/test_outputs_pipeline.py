"""Render writes every output and the previews; the API lists them in /result and downloads
each variant; deleting the job removes them all. The sample's scanned page gets its layout from
the OCR engine (OcrPage stores it), its born-digital page from the PDF."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymupdf
import pytest
from fastapi.testclient import TestClient
from pagewise.data.blocks import BlockTranslationStore, blocks_key
from pagewise.data.layouts import LayoutStore
from pagewise.documents.apertium_warm import PIPELINES
from pagewise.documents.llm import LlmConfig
from pagewise.documents.outputs.previews import page_previews
from pagewise.logic.errors import JobFailed
from pagewise.logic.page_outputs import BLOCKS_FALLBACK_NOTE
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pagewise.variants import DOCX, VARIANTS

from tests.support.fake_openai import FakeOpenAI
from tests.unit.api.test_api import _auth, api  # noqa: F401 (the fixture)
from tests.unit.builders import a_job, a_job_run_through, a_token
from tests.unit.logic.test_pipeline_ocr import pipeline  # noqa: F401 (the fixture)

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "contrato-2-paginas.pdf"


@pytest.fixture
def completed_job(pipeline: Pipeline) -> str:  # noqa: F811
    job_id = a_job_run_through(
        pipeline,
        SAMPLE.read_bytes(),
        content_type="application/octet-stream",
        file_name="contrato año.pdf",
    )
    # OcrPage stored the scanned page's layout; the born-digital page's is read from the PDF.
    assert LayoutStore(pipeline.store).load(job_id, 2) is not None
    return job_id


def _stored_previews(pipeline: Pipeline, job_id: str, kind: str) -> list[bytes]:  # noqa: F811
    stored = pipeline.results.get(job_id) or pytest.fail("no result")
    return [bytes(pymupdf.Pixmap(pipeline.store.read(p[kind])).samples) for p in stored["previews"]]


def _pixels(pngs: list[bytes]) -> list[bytes]:
    return [bytes(pymupdf.Pixmap(png).samples) for png in pngs]


def test_render_writes_every_variant_and_the_api_offers_them(
    pipeline: Pipeline,  # noqa: F811
    api: TestClient,  # noqa: F811
    completed_job: str,
) -> None:
    job = pipeline.jobs.get(completed_job)
    assert job is not None and sorted(job.output_keys) == sorted(VARIANTS)

    overlay = pymupdf.open(stream=pipeline.store.read(job.output_keys["overlay"]))
    assert overlay.page_count == 2
    # Offline: each block is its Apertium gist, labelled on the page; the scan keeps its image.
    first = " ".join(overlay[0].get_text().split())
    assert "Apertium gist" in first and "LEASE" in first and "Primera" not in first
    assert len(overlay[1].get_images()) == 1 and "Apertium gist" in overlay[1].get_text()
    searchable = pymupdf.open(stream=pipeline.store.read(job.output_keys["searchable"]))
    assert "arrendatario" in searchable[1].get_text()

    result = api.get(f"/api/v1/jobs/{completed_job}/result", headers=_auth(a_token())).json()
    listed = {entry["variant"]: entry for entry in result["outputs"]}
    assert sorted(listed) == sorted(VARIANTS)
    assert listed["docx"]["content_type"] == DOCX
    assert listed["overlay"]["file_name"] == "contrato año_overlay.pdf"
    assert listed["overlay"]["url"] == f"/api/v1/jobs/{completed_job}/download?variant=overlay"
    assert all(entry["download_url"].startswith("http") for entry in listed.values())
    assert [p["page"] for p in result["previews"]] == [1, 2]
    assert all(p["source_url"] and p["overlay_url"] for p in result["previews"])
    assert result["overlay"]["overflowed_blocks"] == [
        {"page": 1, "blocks": 0},
        {"page": 2, "blocks": 0},
    ]
    assert set(result["render_seconds"]) >= {*VARIANTS, "previews"}
    # A slice of the result carries the previews of its own pages, and every output.
    for page in (1, 2):
        sliced = api.get(
            f"/api/v1/jobs/{completed_job}/result?page_from={page}&page_size=1",
            headers=_auth(a_token()),
        ).json()
        assert [p["page"] for p in sliced["previews"]] == [page]
        assert len(sliced["outputs"]) == len(VARIANTS)
    # Render draws the previews from the document it builds the overlay in (each scan decoded
    # once): they are exactly the previews of the source and of the overlay it saved.
    assert _stored_previews(pipeline, completed_job, "source_key") == _pixels(
        page_previews(SAMPLE.read_bytes())
    )
    assert _stored_previews(pipeline, completed_job, "overlay_key") == _pixels(
        page_previews(overlay.tobytes())
    )

    for variant in VARIANTS:
        response = api.get(
            f"/api/v1/jobs/{completed_job}/download?variant={variant}",
            headers=_auth(a_token()),
            follow_redirects=False,
        )
        assert response.status_code == 307
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["response-content-type"] == [listed[variant]["content_type"]]
        disposition = query["response-content-disposition"][0]
        assert disposition.startswith('attachment; filename="contrato a_o')
        assert "filename*=UTF-8''contrato%20a%C3%B1o" in disposition
    default = api.get(
        f"/api/v1/jobs/{completed_job}/download", headers=_auth(a_token()), follow_redirects=False
    )
    assert (
        "_translated.pdf"
        in parse_qs(urlsplit(default.headers["location"]).query)["response-content-disposition"][0]
    )
    bad = api.get(f"/api/v1/jobs/{completed_job}/download?variant=html", headers=_auth(a_token()))
    assert bad.status_code == 422


def test_an_image_uploads_previews_are_those_of_the_image_and_of_its_overlay(
    pipeline: Pipeline,  # noqa: F811
) -> None:
    with pymupdf.open(SAMPLE) as sample:
        png = sample[1].get_pixmap(dpi=100).tobytes("png")  # the scan, uploaded as an image

    job_id = a_job_run_through(
        pipeline, png, content_type="application/octet-stream", file_name="escaneo.png"
    )

    job = pipeline.jobs.get(job_id) or pytest.fail("no job")
    assert _stored_previews(pipeline, job_id, "source_key") == _pixels(page_previews(png))
    overlay = pipeline.store.read(job.output_keys["overlay"])
    assert _stored_previews(pipeline, job_id, "overlay_key") == _pixels(page_previews(overlay))


def test_deleting_the_job_removes_every_output_and_preview(
    pipeline: Pipeline,  # noqa: F811
    api: TestClient,  # noqa: F811
    completed_job: str,
) -> None:
    stored: dict[str, Any] = pipeline.results.get(completed_job) or {}
    keys = [entry["key"] for entry in stored["outputs"].values()]
    keys += [p[k] for p in stored["previews"] for k in ("source_key", "overlay_key")]
    assert all(pipeline.store.head(key) for key in keys)

    response = api.delete(f"/api/v1/jobs/{completed_job}", headers=_auth(a_token()))

    assert response.json()["outcome"] == "deleted"
    assert [key for key in keys if pipeline.store.head(key)] == []


def _ocr_done_job(pipeline: Pipeline) -> str:  # noqa: F811
    job = a_job(status=JobStatus.QUEUED)
    pipeline.store.write(job.upload_key, SAMPLE.read_bytes(), "application/pdf")
    pipeline.jobs.insert(job)
    pipeline.prepare(job.job_id)
    pipeline.ocr_page(job.job_id, 1)
    return job.job_id


def _answered_by(pipeline: Pipeline, fake: FakeOpenAI) -> None:  # noqa: F811
    """TranslatePage's LLM is the fake server, with no retries of the client's own."""
    pipeline.llm_config = lambda: LlmConfig(
        model="fake-model", base_url=fake.base_url, max_retries=0
    )


def test_unusable_block_answers_fall_back_to_the_offline_text(pipeline: Pipeline) -> None:  # noqa: F811
    job_id = _ocr_done_job(pipeline)
    page = {"legal_english": "LEGAL", "plain_english": "PLAIN", "detected_language": "es"}
    lost_blocks = {"content": json.dumps({"blocks": [{"id": "b1", "legal_english": "x"}]})}
    with FakeOpenAI() as fake:
        _answered_by(pipeline, fake)
        fake.fail_next({"content": json.dumps(page)}, target="page")
        fake.fail_next(lost_blocks, lost_blocks, target="blocks")

        pipeline.translate_page(job_id, 1)

        # The page, the blocks, the blocks once more.
        assert sorted(r["kind"] for r in fake.requests) == ["blocks", "blocks", "page"]
    stored = BlockTranslationStore(pipeline.store).load(job_id, 1)
    assert stored is not None and not stored.translated and stored.provider == "apertium"
    assert stored.note.startswith(BLOCKS_FALLBACK_NOTE)
    assert len(stored.blocks) == 11  # every block of the page, as the offline gist
    current = pipeline.jobs.get(job_id)
    assert current is not None and current.processing_status != JobStatus.FAILED
    assert (pipeline.pages.get(job_id, 1) or pytest.fail()).legal_english == "LEGAL"


def test_the_apertium_data_directory_setting_reaches_the_page_and_its_blocks(
    pipeline: Pipeline,  # noqa: F811
    tmp_path: Path,
) -> None:
    # APERTIUM_DATADIR names a data directory without the sample's pair (spa-eng): offline,
    # neither the page nor its blocks get a gist. Without the setting both are Apertium's.
    (tmp_path / "modes").mkdir()
    pipeline.settings = pipeline.settings.model_copy(update={"apertium_datadir": str(tmp_path)})
    job_id = _ocr_done_job(pipeline)

    pipeline.translate_page(job_id, 1)

    page = pipeline.pages.get(job_id, 1) or pytest.fail()
    blocks = BlockTranslationStore(pipeline.store).load(job_id, 1) or pytest.fail()
    assert (page.translation_provider, blocks.provider) == ("offline", "offline")


def test_without_warm_apertium_pipelines_each_gist_is_one_apertium_run(
    pipeline: Pipeline,  # noqa: F811
) -> None:
    # APERTIUM_WARM_PIPELINES=0: the page and its blocks still get their gists, and no
    # pipeline is left running in the process.
    PIPELINES.close_all()
    pipeline.settings = pipeline.settings.model_copy(update={"apertium_warm_pipelines": 0})
    job_id = _ocr_done_job(pipeline)

    pipeline.translate_page(job_id, 1)

    page = pipeline.pages.get(job_id, 1) or pytest.fail()
    blocks = BlockTranslationStore(pipeline.store).load(job_id, 1) or pytest.fail()
    assert (page.translation_provider, blocks.provider) == ("apertium", "apertium")
    assert PIPELINES.pipelines() == []


def test_the_page_and_its_blocks_are_translated_side_by_side(pipeline: Pipeline) -> None:  # noqa: F811
    job_id = _ocr_done_job(pipeline)
    with FakeOpenAI() as fake:
        _answered_by(pipeline, fake)
        # The page's answer is held back 3 s: the block request must arrive meanwhile.
        fake.fail_next({"delay": 3.0}, target="page")

        translated = pipeline.translate_page(job_id, 1)

        page_call, blocks_call = sorted(fake.requests, key=lambda r: r["kind"] != "page")
    assert page_call["kind"] == "page" and blocks_call["kind"] == "blocks"
    assert blocks_call["received"] - page_call["received"] < 3.0  # before the page's answer
    assert translated.blocks == 11
    assert (pipeline.pages.get(job_id, 1) or pytest.fail()).legal_english


def test_a_refused_page_is_the_jobs_error_even_when_its_blocks_were_translated(
    pipeline: Pipeline,  # noqa: F811
) -> None:
    job_id = _ocr_done_job(pipeline)
    with FakeOpenAI() as fake:
        _answered_by(pipeline, fake)
        fake.fail_next({"status": 400, "code": "content_filter", "delay": 0.5}, target="page")

        with pytest.raises(JobFailed):
            pipeline.translate_page(job_id, 1)

        kinds = sorted(r["kind"] for r in fake.requests)
    assert kinds == ["blocks", "page"]  # each made once, neither retried
    failed = pipeline.jobs.get(job_id) or pytest.fail()
    assert failed.processing_status == JobStatus.FAILED
    assert failed.error_code == "llm_content_filtered"
    assert failed.error_message and failed.error_message.startswith("Page 1: ")


def test_the_blocks_call_waits_for_nothing_to_start_and_ends_before_the_page_returns(
    pipeline: Pipeline,  # noqa: F811
) -> None:
    job_id = _ocr_done_job(pipeline)
    threads: list[threading.Thread] = []
    translate_blocks = pipeline._block_translations

    def on_its_thread(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return translate_blocks(*args)

    pipeline._block_translations = on_its_thread  # type: ignore[method-assign]
    with FakeOpenAI() as fake:
        _answered_by(pipeline, fake)
        pipeline.translate_page(job_id, 1)
        pipeline.translate_page(job_id, 1)
        # A refused page while its blocks' answer is 1 s away: the page returns only once
        # the block call is over (nothing runs on into the next invocation).
        pipeline.store.delete([blocks_key(job_id, 1)])
        fake.fail_next({"status": 400, "code": "content_filter"}, target="page")
        fake.fail_next({"delay": 1.0}, target="blocks")
        with pytest.raises(JobFailed):
            pipeline.translate_page(job_id, 1)
        assert BlockTranslationStore(pipeline.store).load(job_id, 1) is not None

    # One thread, kept for the warm environment, not one started per page.
    assert len(threads) == 3 and threads[0] is threads[1] is threads[2]
    assert threads[0] is not threading.main_thread()


def test_refused_blocks_fail_the_job_after_the_page_was_saved(pipeline: Pipeline) -> None:  # noqa: F811
    job_id = _ocr_done_job(pipeline)
    with FakeOpenAI() as fake:
        _answered_by(pipeline, fake)
        fake.fail_next(401, target="blocks")

        with pytest.raises(JobFailed):
            pipeline.translate_page(job_id, 1)

    failed = pipeline.jobs.get(job_id) or pytest.fail()
    assert failed.error_code == "llm_auth_failed"
    assert failed.error_message and failed.error_message.startswith("Page 1 (blocks): ")
