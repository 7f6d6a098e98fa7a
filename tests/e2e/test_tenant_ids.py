"""Any token subject is a tenant: one with "+" or "/" gets its jobs ingested and completed, by
the presigned POST and by the one-shot upload (issue 14, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.stack import require_stack, stack_client

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contrato-2-paginas.pdf"
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("subject", ["john+test@example.com", "org/alice"])
def test_a_subject_with_plus_or_slash_gets_both_uploads_processed(subject: str) -> None:
    require_stack()
    client = stack_client(subject)
    created = client.create_job(SAMPLE)
    client.upload(created["upload"], SAMPLE)
    one_shot = requests.post(
        f"{client.base_url}/api/v1/jobs/upload",
        headers={"Authorization": f"Bearer {client.token}"},
        files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "application/pdf")},
        timeout=60,
    )
    assert one_shot.status_code == 201, one_shot.text
    assert one_shot.json()["status"] == "queued"
    for job_id in (created["job_id"], one_shot.json()["job_id"]):
        final = client.wait(job_id, timeout_seconds=240, interval=0.5)["details"]
        assert final["processing_status"] == "completed", (subject, final)
        assert final["total_pages"] == 2
    listed = [job["job_id"] for job in client.list_jobs()["jobs"]]
    assert sorted(listed) == sorted([created["job_id"], one_shot.json()["job_id"]])
