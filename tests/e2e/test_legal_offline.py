"""The legal reader (issue 17) on the demo lease, offline (no LLM), through the deployed stack:
the Apertium gist uses the glossary's English terms, the summary cites its pages, and the key
facts found by pattern cite the right pages; the translated PDF shows all three, and the
overlay PDF's per-block gist uses the glossary's terms too."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pymupdf
import pytest
from pagewise_client.api import PagewiseClient
from pagewise_client.local import local_token

from tests.stack import outputs, require_stack

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"
GLOSSARY = {
    "source_language": "es",
    "entries": [
        {"source": "arrendatario", "target": "tenant"},
        {"source": "arrendador", "target": "landlord"},
        {"source": "fianza", "target": "security deposit"},
    ],
}


def test_the_demo_lease_offline_shows_glossary_terms_citations_and_key_facts(
    tmp_path: Path,
) -> None:
    require_stack()
    client = PagewiseClient(outputs()["ApiUrl"], local_token(f"legal-{uuid.uuid4().hex[:8]}"))
    client.put_glossary("lease", json.dumps(GLOSSARY).encode())
    job_id = None
    try:
        created = client.create_job(DEMO, glossary="lease")
        job_id = created["job_id"]
        client.upload(created["upload"], DEMO)
        final = client.wait(job_id, timeout_seconds=400)
        assert final["details"]["processing_status"] == "completed", final["details"]
        # Offline: nothing to pay, and the estimate says so.
        assert final["details"]["cost_estimate"]["llm_calls"] == 0
        result = client.result(job_id)
        pages = {page["page"]: page for page in result["page_results"]}
        for number in (1, 2):
            assert pages[number]["translation_provider"] == "apertium", pages[number]
            used = {entry["source"] for entry in pages[number]["glossary_applied"]}
            assert {"arrendatario", "arrendador"} <= used, pages[number]
            assert "tenant" in pages[number]["legal_english"]
            assert "landlord" in pages[number]["legal_english"]
        assert "Glossary terms applied" in pages[1]["translation_note"]

        cited = result["summary_cited"]
        assert cited["facts_unverified"] == 0 and cited["facts_verified"] >= 6
        assert "pattern-extracted" in cited["facts_label"]
        found = {(fact["category"], fact["page"]) for fact in cited["facts"]}
        for expected in (
            ("parties", 1),
            ("dates", 1),
            ("amounts", 1),
            ("governing_law", 1),
            ("jurisdiction", 2),
        ):
            assert expected in found, (expected, found)
        assert all(fact["method"] == "pattern" for fact in cited["facts"])
        assert all(sentence["pages"] for sentence in cited["overview"])
        assert "(p. 1)" in result["summary"]

        pdf = client.download(job_id, tmp_path / "demo_translated.pdf")
        with pymupdf.open(pdf) as doc:
            text = " ".join(" ".join(page.get_text().split()) for page in doc)
        assert "Glossary lease (version 1, 3 entries)" in text
        assert "Glossary terms used: arrendatario → tenant" in text
        assert "Key facts" in text and "pattern-extracted" in text
        for label in ("Parties", "Amounts", "Governing law", "Jurisdiction"):
            assert label in text, label
        assert "800 € (p. 1)" in text
        assert "(p. 2)" in text  # the jurisdiction clause, on the scanned page
        assert "(p. 1)" in text.split("Key facts")[0]  # the overview cites its pages

        overlay = client.download(job_id, tmp_path / "overlay.pdf", variant="overlay")
        with pymupdf.open(overlay) as doc:
            first = " ".join(doc[0].get_text().split())
        assert "tenant" in first and "landlord" in first, first
        assert "arrendatario" not in first.lower() and "Qqglos" not in first, first
    finally:
        if job_id is not None:
            client.cancel(job_id)
        client.delete_glossary("lease")
