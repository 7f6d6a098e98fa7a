"""Every output of a job through the deployed stack: /result lists the variants and the page
previews; each variant downloads through the API (right content type, RFC 6266 name, the
right document) and through the CLI (the same bytes); deleting the job removes them."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import requests
from docx import Document
from pagewise_client.api import ApiError, PagewiseClient
from pagewise_client.local import local_token

from tests.stack import outputs, require_stack

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
PAGEWISE = Path(sys.executable).parent / "pagewise"
TENANT = f"e2e-outputs-{uuid.uuid4().hex[:8]}"
TYPES = {
    "report": "application/pdf",
    "overlay": "application/pdf",
    "searchable": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NAMES = {
    "report": "contrato-2-paginas_translated.pdf",
    "overlay": "contrato-2-paginas_overlay.pdf",
    "searchable": "contrato-2-paginas_searchable.pdf",
    "docx": "contrato-2-paginas_translated.docx",
}


@pytest.fixture(scope="module")
def job() -> Any:
    require_stack()
    client = PagewiseClient(outputs()["ApiUrl"], local_token(TENANT))
    created = client.create_job(SAMPLE)
    client.upload(created["upload"], SAMPLE)
    final = client.wait(created["job_id"], timeout_seconds=300, interval=0.5)
    assert final["details"]["processing_status"] == "completed", final["details"]
    yield client, created["job_id"]
    with contextlib.suppress(ApiError):  # already deleted by the test below
        client.cancel(created["job_id"])  # DELETE: a finished job is deleted with its files


def _get_variant(client: PagewiseClient, job_id: str, variant: str) -> requests.Response:
    redirect = requests.get(
        f"{outputs()['ApiUrl']}/api/v1/jobs/{job_id}/download",
        params={"variant": variant},
        headers={"Authorization": f"Bearer {local_token(TENANT)}"},
        allow_redirects=False,
        timeout=30,
    )
    assert redirect.status_code == 307, redirect.text
    response = requests.get(redirect.headers["Location"], timeout=60)
    assert response.status_code == 200
    return response


def test_every_variant_downloads_through_the_api_and_the_cli(job: Any, tmp_path: Path) -> None:
    client, job_id = job
    result = client.result(job_id)
    listed = {entry["variant"]: entry for entry in result["outputs"]}
    assert sorted(listed) == sorted(TYPES)
    assert result["overlay"]["overflowed_blocks"] == [
        {"page": 1, "blocks": 0},
        {"page": 2, "blocks": 0},
    ]

    downloaded: dict[str, bytes] = {}
    for variant, content_type in TYPES.items():
        response = _get_variant(client, job_id, variant)
        assert response.headers["Content-Type"] == content_type
        disposition = response.headers["Content-Disposition"]
        assert f'filename="{NAMES[variant]}"' in disposition
        assert f"filename*=UTF-8''{NAMES[variant]}" in disposition
        assert listed[variant]["url"] == f"/api/v1/jobs/{job_id}/download?variant={variant}"
        downloaded[variant] = response.content

    source = pymupdf.open(SAMPLE)
    overlay = pymupdf.open(stream=downloaded["overlay"])
    assert [p.rect for p in overlay] == [p.rect for p in source]
    assert len(overlay[1].get_images()) == 1  # the scan is still there
    assert "REUNIDOS" not in overlay[0].get_text()  # the source text is replaced
    searchable = pymupdf.open(stream=downloaded["searchable"])
    for before, after in zip(source, searchable, strict=True):
        assert after.get_pixmap(dpi=50).samples == before.get_pixmap(dpi=50).samples
    assert searchable[0].get_text() == source[0].get_text()
    # The scanned page now carries the OCR's words, invisible.
    assert "juzgados de Madrid" in " ".join(searchable[1].get_text().split())
    assert "Madrid" in " ".join(overlay[1].get_text().split())  # the gist, set in place
    document = Document(io.BytesIO(downloaded["docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Summary", "Page 1", "Page 2"]
    assert downloaded["report"].startswith(b"%PDF")

    for preview in result["previews"]:
        for kind in ("source_url", "overlay_url"):
            png = requests.get(preview[kind], timeout=30)
            assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert [p["page"] for p in result["previews"]] == [1, 2]

    cli = subprocess.run(
        [str(PAGEWISE), "download", job_id, "--variant", "all", "--out", str(tmp_path)],
        env={
            "PATH": "/usr/bin:/bin",
            "PAGEWISE_API_URL": outputs()["ApiUrl"],
            "PAGEWISE_TOKEN": local_token(TENANT),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    saved = [Path(line) for line in cli.stdout.split()]
    assert [path.name for path in saved] == [NAMES[v] for v in TYPES]
    for variant, path in zip(TYPES, saved, strict=True):
        assert path.read_bytes() == downloaded[variant], variant


def test_deleting_the_job_removes_every_output(job: Any) -> None:
    client, job_id = job
    result = client.result(job_id)
    urls = [entry["download_url"] for entry in result["outputs"]]
    urls += [p[kind] for p in result["previews"] for kind in ("source_url", "overlay_url")]
    assert all(requests.get(url, timeout=30).status_code == 200 for url in urls)

    assert client.cancel(job_id)["outcome"] == "deleted"

    assert [url for url in urls if requests.get(url, timeout=30).status_code != 404] == []
