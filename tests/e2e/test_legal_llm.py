"""The legal reader (issue 17) through the deployed stack, with the fake LLM in this process
(wired as in test_llm_pipeline.py: the TranslatePage and Summarise functions are pointed at it
for the length of the module, with a price for its model).

- A glossary term on pages 1 and 3 is in those pages' prompts only; a term the LLM keeps
  missing gets one corrective retry and is reported; the overlay PDF (its own block-by-block
  translation) uses the glossary's terms too; another tenant can neither read nor use the
  glossary.
- A 2-page document whose sentence crosses the break: translated once, with page 1; page 2's
  translation starts after it and is marked as a continuation; a key fact the fake cites on the
  wrong page is never verified.
- max_cost below the estimate fails the job before any LLM request.
- GET /api/v1/usage and `pagewise usage` count what the tenant's jobs used.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from pagewise_client.api import ApiError, PagewiseClient
from pagewise_client.local import local_token

from tests.stack import llm_functions_answered_by, outputs, require_stack
from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PRICE = {"input": 100.0, "output": 200.0}  # USD per million tokens: a job costs cents
GLOSSARY = {
    "source_language": "es",
    "entries": [
        {"source": "arrendatario", "target": "lessee"},
        {"source": "fianza legal", "target": "statutory deposit", "note": "LAU art. 36"},
    ],
}
# "arrendatario" on pages 1 and 3, "fianza legal" on page 3 only; no sentence crosses a break.
GLOSSARY_PAGES = [
    "PRIMERA. El arrendatario pagará la renta mensual de ochocientos euros.",
    "SEGUNDA. La duración del contrato será de un año prorrogable.",
    "TERCERA. El arrendatario entrega la fianza legal a la firma del contrato.",
]
# Page 1's last sentence ends on page 2.
CROSSING_PAGES = [
    "PRIMERA. La renta mensual es de ochocientos euros, que el inquilino pagará dentro de los",
    "cinco primeros días de cada mes. SEGUNDA. El contrato se regirá por la ley española.",
]


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    require_stack()
    with FakeOpenAI() as fake:
        prices = {"LLM_PRICES": json.dumps({"fake-model": PRICE})}
        with llm_functions_answered_by(fake.base_url, prices):
            yield fake


@pytest.fixture
def tenant() -> str:
    return f"legal-{uuid.uuid4().hex[:8]}"


def _client(tenant: str) -> PagewiseClient:
    return PagewiseClient(outputs()["ApiUrl"], local_token(tenant))


def _pdf(path: Path, pages: list[str]) -> Path:
    with pymupdf.open() as doc:
        for text in pages:
            doc.new_page().insert_textbox(pymupdf.Rect(60, 80, 540, 400), text, fontsize=12)
        doc.save(path)
    return path


def _run(client: PagewiseClient, path: Path, **options: Any) -> tuple[str, dict[str, Any]]:
    created = client.create_job(path, **options)
    client.upload(created["upload"], path)
    return created["job_id"], client.wait(created["job_id"], timeout_seconds=400)


def _page_prompts(fake: FakeOpenAI) -> dict[int, list[str]]:
    """The translation prompts (user messages) the fake received, by page."""
    prompts: dict[int, list[str]] = {}
    for request in fake.requests:
        text = "\n".join(
            str(m["content"]) for m in request["body"]["messages"] if m["role"] == "user"
        )
        if "<page>" in text:
            number = int(text.split(".", 1)[0].removeprefix("Page "))
            prompts.setdefault(number, []).append(text)
    return prompts


@pytest.fixture
def cleanup() -> Iterator[list[tuple[PagewiseClient, str]]]:
    made: list[tuple[PagewiseClient, str]] = []
    yield made
    for client, job_id in made:
        with contextlib.suppress(ApiError):
            client.cancel(job_id)  # a finished job: deleted with its files


def test_glossary_terms_reach_only_their_pages_and_a_missed_one_is_retried_and_reported(
    llm: FakeOpenAI,
    tenant: str,
    tmp_path: Path,
    cleanup: list[tuple[PagewiseClient, str]],
) -> None:
    llm.reset()
    llm.control({"miss_glossary": ["fianza legal"]})  # the fake never uses this one
    client = _client(tenant)
    saved = client.put_glossary("lease", json.dumps(GLOSSARY).encode())
    try:
        assert saved["version"] == 1
        job_id, final = _run(
            client, _pdf(tmp_path / "glosario.pdf", GLOSSARY_PAGES), glossary="lease"
        )
        cleanup.append((client, job_id))
        assert final["details"]["processing_status"] == "completed", final["details"]
        assert final["details"]["glossary"] == "lease"
        prompts = _page_prompts(llm)
        # Page 3 was asked twice (the corrective retry for the missed term), pages 1 and 2 once.
        assert {n: len(p) for n, p in prompts.items()} == {1: 1, 2: 1, 3: 2}, prompts
        assert "- arrendatario → lessee" in prompts[1][0]
        assert "fianza legal" not in prompts[1][0]
        assert "Glossary" not in prompts[2][0]
        assert "- arrendatario → lessee" in prompts[3][0]
        assert "- fianza legal → statutory deposit (LAU art. 36)" in prompts[3][0]
        assert 'did not use these glossary terms: "fianza legal"' in prompts[3][1]
        result = client.result(job_id)
        pages = {page["page"]: page for page in result["page_results"]}
        lessee = {"source": "arrendatario", "target": "lessee"}
        deposit = {"source": "fianza legal", "target": "statutory deposit"}
        assert (pages[1]["glossary_applied"], pages[1]["glossary_missed"]) == ([lessee], [])
        assert (pages[2]["glossary_applied"], pages[2]["glossary_missed"]) == ([], [])
        assert (pages[3]["glossary_applied"], pages[3]["glossary_missed"]) == ([lessee], [deposit])
        assert (
            "lessee" in pages[1]["legal_english"]
            and "arrendatario" not in pages[1]["legal_english"]
        )
        assert result["glossary"]["name"] == "lease" and result["glossary"]["entries"] == 2
        assert (
            "Glossary terms not used: fianza legal → statutory deposit"
            in result["ai_report_content"]
        )
        # The overlay's blocks were asked with the glossary too (page 3's again for the term
        # the fake misses), and the overlay shows the English term, not the source term.
        blocks = [r for r in llm.requests if r["kind"] == "blocks"]
        block_prompts = [str(r["body"]["messages"][1]["content"]) for r in blocks]
        assert len(blocks) == 4, block_prompts
        assert sum("- arrendatario → lessee" in p for p in block_prompts) == 3
        overlay = client.download(job_id, tmp_path / "overlay.pdf", variant="overlay")
        with pymupdf.open(overlay) as doc:
            overlay_pages = [" ".join(page.get_text().split()) for page in doc]
        for number in (1, 3):
            assert "lessee" in overlay_pages[number - 1], overlay_pages
            assert "arrendatario" not in overlay_pages[number - 1], overlay_pages

        # Another tenant can neither read nor use it.
        other = _client(f"{tenant}-other")
        with pytest.raises(ApiError) as read:
            other.glossary("lease")
        assert read.value.status == 404
        with pytest.raises(ApiError) as used:
            other.create_job(tmp_path / "glosario.pdf", glossary="lease")
        assert used.value.status == 422 and "does not exist" in used.value.body
    finally:
        client.delete_glossary("lease")


def test_a_sentence_across_the_break_is_translated_once_with_its_first_page(
    llm: FakeOpenAI,
    tenant: str,
    tmp_path: Path,
    cleanup: list[tuple[PagewiseClient, str]],
) -> None:
    llm.reset()
    client = _client(tenant)
    job_id, final = _run(client, _pdf(tmp_path / "salto.pdf", CROSSING_PAGES))
    cleanup.append((client, job_id))
    assert final["details"]["processing_status"] == "completed", final["details"]
    prompts = _page_prompts(llm)
    tail = "cinco primeros días de cada mes."
    assert tail in prompts[1][0] and "ends on page 2" in prompts[1][0]
    assert tail not in prompts[2][0] and "begun on page 1" in prompts[2][0]
    result = client.result(job_id)
    pages = {page["page"]: page for page in result["page_results"]}
    assert pages[1]["completion"] == tail and pages[2]["continuation"] == tail
    assert tail in pages[1]["legal_english"] and tail not in pages[2]["legal_english"]
    assert pages[2]["translated_source"].startswith("SEGUNDA.")
    assert (
        "Continuation: this page begins with the end of a sentence from page 1"
        in (result["ai_report_content"])
    )
    # The summary cites its pages; the fact the fake cites on the wrong page is not verified.
    assert "(p. 1)" in result["summary"] and "(p. 2)" in result["summary"]
    cited = result["summary_cited"]
    wrong = [fact for fact in cited["facts"] if fact["page"] == 1 and fact["category"] == "amounts"]
    assert wrong and wrong[0]["verified"] is False
    assert cited["facts_unverified"] >= 1
    assert all(fact["verified"] for fact in cited["facts"] if fact["category"] == "dates")
    # The estimate was made before translation, and usage was recorded.
    estimate = final["details"]["cost_estimate"]
    # Each page, each page's blocks (the overlay), the summary.
    assert estimate["model"] == "fake-model" and estimate["llm_calls"] == 5
    assert final["details"]["usage"]["cost"] > 0


def test_max_cost_below_the_estimate_fails_the_job_before_any_llm_request(
    llm: FakeOpenAI,
    tenant: str,
    tmp_path: Path,
    cleanup: list[tuple[PagewiseClient, str]],
) -> None:
    llm.reset()
    client = _client(tenant)
    job_id, final = _run(client, _pdf(tmp_path / "caro.pdf", CROSSING_PAGES), max_cost=0.0001)
    cleanup.append((client, job_id))
    details = final["details"]
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == "cost_limit_exceeded"
    assert details["cost_estimate"]["cost"] > 0.0001
    assert f"{details['cost_estimate']['cost']:.4f} USD" in details["error_message"]
    assert "no LLM was called" in details["error_message"]
    assert llm.requests == []


def test_usage_counts_the_tenants_jobs_in_the_api_and_the_cli(
    llm: FakeOpenAI,
    tenant: str,
    tmp_path: Path,
    cleanup: list[tuple[PagewiseClient, str]],
) -> None:
    llm.reset()
    client = _client(tenant)
    job_id, final = _run(client, _pdf(tmp_path / "uso.pdf", GLOSSARY_PAGES[:2]))
    cleanup.append((client, job_id))
    assert final["details"]["processing_status"] == "completed", final["details"]
    used = final["details"]["usage"]
    report = client.usage()
    assert (report["jobs"], report["jobs_completed"], report["pages"]) == (1, 1, 2)
    assert report["prompt_tokens"] == used["prompt_tokens"] > 0
    assert report["cost"] == pytest.approx(used["cost"])
    assert _client(f"{tenant}-other").usage()["jobs"] == 0
    cli = subprocess.run(
        [str(ROOT / ".venvs" / "dev" / "bin" / "pagewise"), "usage", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PAGEWISE_API_URL": outputs()["ApiUrl"], "PAGEWISE_TENANT": tenant},
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["total_tokens"] == report["total_tokens"]
