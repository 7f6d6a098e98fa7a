"""The presigned POST stays valid for its 15 minutes: a second POST with the same form after
ingest replaces the upload, but every step reads the copy Ingest checked (issue 14, item 2)."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import requests

from tests.stack import require_stack, stack_client, wait_until

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"
# A phrase of each page of the sample (page 1 has a text layer, page 2 is a scan).
PAGE_PHRASES = {1: "calle Mayor 5", 2: "juzgados de Madrid"}
REPLACEMENT_TEXT = "REPLACED AFTER INGEST"


def _replacement_pdf() -> bytes:
    with pymupdf.open() as document:
        for _ in range(3):
            document.new_page().insert_text((72, 72), REPLACEMENT_TEXT)
        return bytes(document.tobytes())


def test_a_form_posted_again_after_ingest_changes_nothing_the_job_reads() -> None:
    require_stack()
    client = stack_client("integration-upload-reuse")
    created = client.create_job(SAMPLE)
    job_id = created["job_id"]
    client.upload(created["upload"], SAMPLE)
    wait_until(
        lambda: client.status(job_id)["details"]["processing_status"] != "awaiting_upload",
        60,
        "Ingest took the upload",
    )
    # The same form, other bytes: S3 accepts it (the policy still holds).
    again = requests.post(
        created["upload"]["url"],
        data=created["upload"]["fields"],
        files={"file": ("x.pdf", _replacement_pdf())},
        timeout=60,
    )
    assert again.status_code == 204, again.text
    final = client.wait(job_id, timeout_seconds=240, interval=0.5)["details"]
    assert final["processing_status"] == "completed", final
    assert final["total_pages"] == 2  # the checked file's, not the replacement's 3
    pages = {page["page"]: page["ocr_text"] for page in client.result(job_id)["page_results"]}
    for page, phrase in PAGE_PHRASES.items():
        assert phrase in pages[page], (page, pages[page][:200])
    assert not any(REPLACEMENT_TEXT in text for text in pages.values())
