"""Bad input through the deployed stack: each ends `failed` with its own error_code and a
message a person understands, the original upload kept, never stuck in `processing`.

Files that break the presigned policy (empty, too big) never reach S3 from a browser; the
cases where a client with bucket credentials ignores the policy put the object directly."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import requests
from botocore.exceptions import ClientError
from pagewise_client.api import PagewiseClient

from tests.stack import (
    aws_client,
    function_reconfigured,
    new_tenant,
    outputs,
    stack_client,
)
from tests.unit.documents.documents_inputs import encrypt_pdf, multipage_tiff

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
pytestmark = pytest.mark.integration


def _kept(key: str) -> bool:
    try:
        aws_client("s3").head_object(Bucket=outputs()["UploadsBucketName"], Key=key)
    except ClientError:
        return False
    return True


def _finish(client: PagewiseClient, job_id: str) -> dict[str, Any]:
    final = client.wait(job_id, timeout_seconds=180, interval=0.3)
    deadline = time.monotonic() + 60
    status = final
    while status["workflow"]["state"] == "RUNNING":  # MarkFailed ends it a moment later
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.3)
        status = client.status(job_id)
    details: dict[str, Any] = status["details"]
    return details


def _submit(client: PagewiseClient, path: Path, *, direct: bool = False) -> tuple[str, str]:
    """Create a job and upload ``path``: by its presigned POST, or (``direct``) straight to
    the job's key with bucket credentials, as a client that ignores the policy would."""
    created = client.create_job(path) if path.stat().st_size else _create_empty(client, path)
    key = created["upload"]["fields"]["key"]
    if direct:
        aws_client("s3").put_object(
            Bucket=outputs()["UploadsBucketName"], Key=key, Body=path.read_bytes()
        )
    else:
        client.upload(created["upload"], path)
    return created["job_id"], key


def _create_empty(client: PagewiseClient, path: Path) -> dict[str, Any]:
    # The API refuses file_size 0, so the client declares one byte and sends none.
    response = requests.post(
        f"{client.base_url}/api/v1/jobs",
        json={"file_name": path.name, "content_type": "application/pdf", "file_size": 1},
        headers={"Authorization": f"Bearer {client.token}"},
        timeout=30,
    )
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


def _pdf(path: Path, build: Callable[[pymupdf.Document], None]) -> Path:
    with pymupdf.open() as doc:
        build(doc)
        doc.save(path)
    return path


def _text_page(doc: pymupdf.Document, text: str = "Cláusula primera: objeto del contrato.") -> None:
    doc.new_page().insert_text((72, 100), text, fontsize=12)


def _bomb_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG that is tiny compressed and huge decoded."""
    import struct
    import zlib

    row = b"\x00" + b"\xff" * width
    pixels = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _zero_page_pdf(path: Path) -> Path:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]
    body = b"%PDF-1.7\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(body)
    return path


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


FAILING_CASES: dict[str, tuple[Callable[[Path], Path], bool, str, str]] = {
    # name: (build the file, put directly?, error_code, part of the message)
    "zero-byte file": (
        lambda d: _write(d / "empty.pdf", b""),
        True,
        "empty_document",
        "empty",
    ),
    "an .exe named .pdf": (
        lambda d: _write(d / "invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 600),
        False,
        "unsupported_file_type",
        "not a PDF, PNG, JPEG or TIFF",
    ),
    "a truncated PDF": (
        lambda d: _write(d / "truncated.pdf", SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 3]),
        False,
        "corrupt_document",
        "",
    ),
    "a password-protected PDF": (
        lambda d: _write(d / "locked.pdf", encrypt_pdf(SAMPLE.read_bytes(), user_pw="secret")),
        False,
        "encrypted_pdf",
        "password-protected",
    ),
    "a decompression bomb (20000 x 20000 PNG of 440 KB)": (
        lambda d: _write(d / "bomb.png", _bomb_png(20_000, 20_000)),
        False,
        "page_too_large",
        "Page 1 would be 400 megapixels",
    ),
    "a PDF with zero pages": (
        lambda d: _zero_page_pdf(d / "no-pages.pdf"),
        False,
        "empty_document",
        "no pages",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILING_CASES))
def test_bad_input_fails_with_its_code_and_keeps_the_upload(case: str, tmp_path: Path) -> None:
    build, direct, code, phrase = FAILING_CASES[case]
    client = stack_client(new_tenant("bad-input"))
    job_id, key = _submit(client, build(tmp_path), direct=direct)
    details = _finish(client, job_id)
    assert details["processing_status"] == "failed", details
    assert details["error_code"] == code, details
    assert phrase.lower() in details["error_message"].lower(), details["error_message"]
    assert "Traceback" not in details["error_message"]
    assert _kept(key)


def test_a_file_over_the_limit_put_past_the_policy_fails_as_too_large(tmp_path: Path) -> None:
    client = stack_client(new_tenant("bad-input"))
    with function_reconfigured("IngestFunction", environment={"UPLOAD_MAX_BYTES": "10000"}):
        job_id, key = _submit(client, SAMPLE, direct=True)
        details = _finish(client, job_id)
    assert details["error_code"] == "file_too_large", details
    assert "limit is 10000 bytes" in details["error_message"]
    assert _kept(key)


def test_more_pages_than_the_limit_fails_as_too_many_pages() -> None:
    client = stack_client(new_tenant("bad-input"))
    with function_reconfigured("PrepareFunction", environment={"MAX_PAGES": "1"}):
        job_id, key = _submit(client, SAMPLE)
        details = _finish(client, job_id)
    assert details["error_code"] == "too_many_pages", details
    assert details["error_message"].startswith("The document has 2 pages; at most 1")
    assert _kept(key)


def test_a_pdf_with_javascript_and_attachments_is_processed_as_text(tmp_path: Path) -> None:
    def build(doc: pymupdf.Document) -> None:
        _text_page(doc, "Contrato con anexos: el arrendador entrega las llaves.")
        doc.embfile_add("payload.exe", b"MZ\x90\x00not run", filename="payload.exe")
        doc.xref_set_key(
            doc.pdf_catalog(), "OpenAction", "<</S/JavaScript/JS(app.alert('hello'))>>"
        )

    client = stack_client(new_tenant("bad-input"))
    job_id, _ = _submit(client, _pdf(tmp_path / "active.pdf", build))
    details = _finish(client, job_id)
    assert details["processing_status"] == "completed", details
    pages = client.result(job_id)["page_results"]
    assert [page["page"] for page in pages] == [1]
    assert "entrega las llaves" in pages[0]["ocr_text"]


def test_a_multi_page_tiff_is_one_page_per_frame(tmp_path: Path) -> None:
    frames = [["Primera hoja del expediente."], ["Segunda hoja del expediente."]]
    path = _write(tmp_path / "expediente.tiff", multipage_tiff(frames, dpi=200))
    client = stack_client(new_tenant("bad-input"))
    job_id, _ = _submit(client, path)
    details = _finish(client, job_id)
    assert details["processing_status"] == "completed", details
    pages = client.result(job_id)["page_results"]
    assert [page["source"] for page in pages] == ["ocr", "ocr"]
    assert "Segunda hoja" in pages[1]["ocr_text"]
