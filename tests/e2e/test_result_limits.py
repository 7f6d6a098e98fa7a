"""AWS's limits on the deployed stack: a long document's result stays small and pages
correctly through /result, and the history events per page still match the measured figures
scripts/aws_limits.py counts with (scripts/history_events.json)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import bson
import pymupdf
import pytest
from pymongo import MongoClient

from tests.stack import MONGODB_URI, require_stack, stack_client

ROOT = Path(__file__).resolve().parents[2]
PAGES = 60
LINE = "El arrendatario pagara la renta mensual pactada en el domicilio del arrendador. "


def _long_document(path: Path) -> None:
    document = pymupdf.open()
    for number in range(1, PAGES + 1):
        page = document.new_page()
        text = f"Pagina {number}. " + LINE * 40  # about 3,300 characters a page
        page.insert_textbox(pymupdf.Rect(36, 36, 560, 800), text, fontsize=9)
    document.save(path)


@pytest.fixture(scope="module")
def long_job(tmp_path_factory: pytest.TempPathFactory) -> Any:
    require_stack()
    client = stack_client("e2e-limits")
    path = tmp_path_factory.mktemp("limits") / "largo.pdf"
    _long_document(path)
    created = client.create_job(path, client_name="e2e-limits")
    client.upload(created["upload"], path)
    final = client.wait(created["job_id"], timeout_seconds=900)
    yield client, created["job_id"], final
    client.cancel(created["job_id"])


def test_a_long_document_completes_and_its_result_documents_stay_small(long_job: Any) -> None:
    _, job_id, final = long_job
    assert final["details"]["processing_status"] == "completed", final["details"]
    db = MongoClient(MONGODB_URI).pagewise
    stored = db.ai_extracted_content.find_one({"document_id": job_id})
    assert stored is not None and stored["page_count"] == PAGES
    assert "page_results" not in stored and "ai_report_content" not in stored
    # The pages' text (60 x 3 fields x ~3,300 characters) is not in it.
    assert len(bson.encode(stored)) < 20_000
    job = db.original_files.find_one({"_id": bson.ObjectId(job_id)})
    assert job is not None and len(bson.encode(job)) < 50_000


def test_result_pages_through_the_whole_document(long_job: Any) -> None:
    client, job_id, _ = long_job
    first = client._get_json(client._job_url(job_id, "/result"), page_size=25)
    assert [page["page"] for page in first["page_results"]] == list(range(1, 26))
    assert first["total_pages"] == PAGES and first["next_page_from"] == 26
    assert first["next"].endswith("/result?page_from=26&page_size=25")
    assert first["ai_report_content"] is None
    whole = client.result(job_id, page_size=25)  # follows next to the end
    assert [page["page"] for page in whole["page_results"]] == list(range(1, PAGES + 1))
    assert all(LINE.strip()[:30] in (page["ocr_text"] or "") for page in whole["page_results"])
    default = client._get_json(client._job_url(job_id, "/result"))
    assert len(default["page_results"]) == 50 and default["next_page_from"] == 51


def test_history_events_per_page_match_the_measured_figures() -> None:
    require_stack()
    spec = importlib.util.spec_from_file_location("aws_limits", ROOT / "scripts" / "aws_limits.py")
    assert spec and spec.loader
    limits = importlib.util.module_from_spec(spec)
    sys.modules["aws_limits"] = limits
    spec.loader.exec_module(limits)
    recorded = json.loads((ROOT / "scripts" / "history_events.json").read_text())
    measured = limits.measure(recorded["pages"])
    assert measured["parent_fixed_events"] == recorded["parent_fixed_events"]
    assert measured["events_per_page"] == recorded["events_per_page"]
