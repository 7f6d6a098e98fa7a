"""The pipeline with an LLM, through the deployed stack: a local OpenAI-compatible server (in
this process) answers the TranslatePage and Summarise functions, which are pointed at it
through their own LLM_* settings for the length of the module.

- A 3-page document mixing a born-digital page, a scanned Spanish page and a rotated scanned
  page: /result shows each page's source and language, both translations, the summary and the
  token totals.
- The LLM answers 429 and 500 a few times, then succeeds: the job completes and the retries
  are in the execution history.
- The LLM is down for good: the job fails with `llm_unavailable` within the retry budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import requests
from pagewise_client.api import PagewiseClient

from tests.stack import (
    execution_history,
    llm_functions_answered_by,
    new_tenant,
    require_stack,
    stack_client,
)
from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e

BORN_DIGITAL = (
    "CONTRATO DE ARRENDAMIENTO. En Madrid, a 3 de marzo de 2025, comparecen las partes que "
    "suscriben el presente contrato y acuerdan las siguientes cláusulas."
)
SCANNED = "PRIMERA. El arrendatario pagará la renta mensual de ochocientos euros."
ROTATED = "SEGUNDA. La duración del contrato será de un año prorrogable."


def _scanned_page(doc: pymupdf.Document, text: str, rotate: int) -> None:
    """A page that is only an image of text, as a scanner makes it; with ``rotate``, the
    pixels are turned, as when a sheet is fed sideways."""
    with pymupdf.open() as source:
        page = source.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(60, 80, 540, 400), text, fontsize=16, fontname="tiro")
        zoom = 300 / 72
        pixmap = page.get_pixmap(
            matrix=pymupdf.Matrix(zoom, zoom).prerotate(rotate), colorspace=pymupdf.csGRAY
        )
    width, height = (842, 595) if rotate % 180 else (595, 842)
    scanned = doc.new_page(width=width, height=height)
    scanned.insert_image(scanned.rect, stream=pixmap.tobytes("png"))


def _mixed_document(path: Path) -> Path:
    with pymupdf.open() as doc:
        first = doc.new_page(width=595, height=842)
        first.insert_textbox(pymupdf.Rect(60, 80, 540, 400), BORN_DIGITAL, fontsize=12)
        _scanned_page(doc, SCANNED, rotate=0)
        _scanned_page(doc, ROTATED, rotate=90)
        doc.save(path)
    return path


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    require_stack()
    with FakeOpenAI() as fake, llm_functions_answered_by(fake.base_url):
        yield fake


def _flat(text: str) -> str:
    return " ".join(text.split())


def _client() -> PagewiseClient:
    return stack_client(new_tenant("llm"))


def _run(client: PagewiseClient, path: Path, **options: Any) -> tuple[str, dict[str, Any]]:
    created = client.create_job(path, **options)
    client.upload(created["upload"], path)
    return created["job_id"], client.wait(created["job_id"], timeout_seconds=400)


def _history_errors(job_id: str) -> list[str]:
    return [
        event["taskFailedEventDetails"]["error"]
        for event in execution_history(job_id)
        if event["type"] == "TaskFailed"
    ]


def test_a_mixed_document_is_translated_and_summarised(llm: FakeOpenAI, tmp_path: Path) -> None:
    llm.reset()
    client = _client()
    job_id, final = _run(client, _mixed_document(tmp_path / "arrendamiento.pdf"))
    assert final["details"]["processing_status"] == "completed", final["details"]
    result = client.result(job_id)
    pages = {page["page"]: page for page in result["page_results"]}
    assert [pages[n]["source"] for n in (1, 2, 3)] == ["text_layer", "ocr", "ocr"]
    for number, phrase in ((1, "comparecen las partes"), (2, "renta mensual"), (3, "prorrogable")):
        page = pages[number]
        assert phrase in _flat(page["ocr_text"]), (number, page["ocr_text"])
        assert page["legal_english"].startswith("LEGAL EN: ")
        assert page["plain_english"].startswith("PLAIN EN: ")
        assert phrase in _flat(page["legal_english"])
        assert page["language"] == "es", page
        assert page["translated"] is True
        assert page["prompt_tokens"] > 0 and page["completion_tokens"] > 0
    # How each scan was read: the whole page was an image and Spanish was chosen for
    # Tesseract. (The sideways page reads right, phrase above; whether OSD turned it or
    # Tesseract's layout analysis read the vertical lines itself shows in ocr_rotation.)
    assert pages[1]["ocr_reason"] is None and pages[1]["ocr_languages"] is None
    for number in (2, 3):
        assert pages[number]["ocr_reason"] == "no_text_layer", pages[number]
        assert "spa" in pages[number]["ocr_languages"].split("+"), pages[number]
        assert pages[number]["ocr_dpi"] >= 200, pages[number]
        assert pages[number]["ocr_confidence"] > 70, pages[number]
    assert pages[2]["ocr_rotation"] == 0
    assert pages[3]["ocr_rotation"] in (0, 90, 270), pages[3]
    # The cited summary (issue 17): each overview sentence names its pages.
    assert all(f"(p. {n})" in result["summary"] for n in (1, 2, 3)), result["summary"]
    usage = result["llm_usage"]
    assert usage["model"] == "fake-model"
    assert (
        usage["prompt_tokens"]
        == usage["pages"]["prompt_tokens"] + (usage["summary"]["prompt_tokens"])
    )
    assert usage["summary"]["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # The key never reaches a stored result.
    assert "sk-test-not-a-real-key" not in str(result)
    # The overlay: the born-digital page's blocks, translated by the LLM block by block.
    overlay_url = next(o["download_url"] for o in result["outputs"] if o["variant"] == "overlay")
    with pymupdf.open(stream=requests.get(overlay_url, timeout=60).content) as overlay:
        first = " ".join(overlay[0].get_text().split())
        assert "LEGAL EN: CONTRATO DE ARRENDAMIENTO" in first and "Apertium" not in first
    schemas = [r["body"].get("response_format", {}).get("json_schema", {}) for r in llm.requests]
    assert any(schema.get("name") == "page_blocks" for schema in schemas)


def test_throttling_and_server_errors_are_retried_until_the_llm_answers(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    llm.reset()
    # Each state attempt makes two HTTP calls (the client's own retry): four failures use up
    # two attempts, so Step Functions retries each page's state at least once.
    llm.fail_next(429, 429, 500, 500, 429, 500, target="page")
    path = tmp_path / "dos-paginas.pdf"
    with pymupdf.open() as doc:
        for text in (BORN_DIGITAL, SCANNED):
            doc.new_page().insert_textbox(pymupdf.Rect(60, 80, 540, 400), text, fontsize=12)
        doc.save(path)
    job_id, final = _run(_client(), path)
    assert final["details"]["processing_status"] == "completed", final["details"]
    errors = _history_errors(job_id)
    assert set(errors) <= {"LlmThrottled", "LlmUnavailable"}, errors
    assert errors, "no retry is visible in the execution history"


def test_an_llm_down_for_good_fails_the_job_as_unavailable(llm: FakeOpenAI, tmp_path: Path) -> None:
    llm.reset()
    llm.set_down(503)
    try:
        path = tmp_path / "una-pagina.pdf"
        with pymupdf.open() as doc:
            doc.new_page().insert_textbox(pymupdf.Rect(60, 80, 540, 400), BORN_DIGITAL, fontsize=12)
            doc.save(path)
        job_id, final = _run(_client(), path)
    finally:
        llm.set_down(None)
    details = final["details"]
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == "llm_unavailable"
    assert details["error_message"].startswith("Page 1: ")
    # The state machine's budget: the first attempt and 5 retries (MaxAttempts 5).
    assert _history_errors(job_id).count("LlmUnavailable") == 6


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (401, "llm_auth_failed"),
        ({"status": 400, "code": "content_filter"}, "llm_content_filtered"),
        (400, "llm_bad_request"),
    ],
)
def test_an_llm_refusal_fails_the_job_at_once(
    llm: FakeOpenAI, tmp_path: Path, fault: Any, code: str
) -> None:
    llm.reset()
    llm.fail_next(fault, target="page")
    path = tmp_path / "rechazada.pdf"
    with pymupdf.open() as doc:
        doc.new_page().insert_textbox(pymupdf.Rect(60, 80, 540, 400), BORN_DIGITAL, fontsize=12)
        doc.save(path)
    job_id, final = _run(_client(), path)
    details = final["details"]
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == code
    assert details["error_message"].startswith("Page 1: ")
    # At once: one request for the page (its blocks, asked beside it, once at most), one
    # failed attempt of the state, never retried.
    kinds = [request["kind"] for request in llm.requests]
    assert kinds.count("page") == 1 and kinds.count("blocks") <= 1, kinds
    assert _history_errors(job_id) == ["JobFailed"]
