"""The `pagewise` command line against a fake API (a local http.server): arguments,
configuration, output, and an exit code for every way a command can fail."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest
from pagewise_client import cli
from pagewise_client.cli import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_JOB_FAILED,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
    Progress,
    main,
    render_trace,
)

PDF = b"%PDF-1.7\n% a translated document\n%%EOF\n"
# The fake API's tenant is a JWT's sub (unchecked), or the <tenant> of a "tok-<tenant>" token.
TOKEN = jwt.encode({"sub": "alice"}, "unit-test-key-of-a-decent-length-000000", algorithm="HS256")

RUNNING = [
    ("queued", 0, 0, None),
    ("processing", 0, 0, 2),
    ("ocr_started", 1, 0, 2),
    ("ocr_completed", 2, 0, 2),
    ("translation_started", 2, 1, 2),
    ("summarising", 2, 2, 2),
]

HISTORY = {
    "job_id": "job-done",
    "processing_status": "completed",
    "execution_arn": "arn:aws:states:us-east-1:000000000000:execution:pagewise-pipeline:job-done",
    "status": "SUCCEEDED",
    "started_at": "2026-03-02T09:30:00Z",
    "stopped_at": "2026-03-02T09:30:05.425Z",
    "duration_ms": 5425,
    "error": None,
    "cause": None,
    "states": [
        {
            "state": "Prepare",
            "depth": 0,
            "status": "succeeded",
            "entered_at": "2026-03-02T09:30:00.001Z",
            "duration_ms": 316,
            "retries": 0,
            "retry_errors": [],
            "error": None,
            "cause": None,
        },
        {
            "state": "TranslatePages",
            "depth": 0,
            "status": "succeeded",
            "entered_at": "2026-03-02T09:30:00.632Z",
            "duration_ms": 4162,
            "retries": 0,
            "retry_errors": [],
            "error": None,
            "cause": None,
        },
        {
            "state": "TranslatePage[page 1]",
            "depth": 1,
            "status": "succeeded",
            "entered_at": "2026-03-02T09:30:00.661Z",
            "duration_ms": 3744,
            "retries": 2,
            "retry_errors": ["LlmUnavailable", "LlmUnavailable"],
            "error": None,
            "cause": None,
        },
        {
            "state": "OcrPage[page 2]",
            "depth": 1,
            "status": "failed",
            "entered_at": "2026-03-02T09:30:00.700Z",
            "duration_ms": 496,
            "retries": 0,
            "retry_errors": [],
            "error": "JobFailed",
            "cause": "page_too_large: Page 2 is 40000 x 40000 pixels",
        },
    ],
}


@dataclass
class Job:
    job_id: str
    tenant: str
    file_name: str
    script: list[tuple[str, int, int, int | None]]
    final: tuple[str, int, int, int | None]
    error: tuple[str, str] | None = None

    def details(self) -> dict[str, Any]:
        status, read, translated, total = self.script.pop(0) if self.script else self.final
        done = status == "completed"
        return {
            "processing_status": status,
            "current_page": read,
            "pages_translated": translated,
            "total_pages": total,
            "error_code": self.error[0] if self.error and status == "failed" else None,
            "error_message": self.error[1] if self.error and status == "failed" else None,
            "summary": "A lease of a flat in Madrid." if done else None,
            "file_name": self.file_name,
            "created_at": "2026-03-02T09:29:58.123000",
            "completed_at": "2026-03-02T09:30:06Z" if done else None,
        }


@dataclass
class FakeApi:
    base: str = ""
    jobs: dict[str, Job] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    new_job: dict[str, Any] = field(default_factory=dict)  # how the next submitted job goes
    refuse_upload: bool = False
    max_file_size: int = 10_000_000

    def add(self, job_id: str, final: str = "completed", tenant: str = "alice", **kw: Any) -> Job:
        total = kw.pop("total", 2)
        pages = total or 0
        job = Job(
            job_id=job_id,
            tenant=tenant,
            file_name=kw.pop("file_name", "contrato.pdf"),
            script=kw.pop("script", []),
            final=(final, pages, pages if final == "completed" else 0, total),
            **kw,
        )
        self.jobs[job_id] = job
        return job


def _tenant(header: str | None) -> str | None:
    token = (header or "").removeprefix("Bearer ")
    if token.startswith("tok-"):
        return token[4:]
    try:
        return str(jwt.decode(token, options={"verify_signature": False})["sub"])
    except (jwt.PyJWTError, KeyError):
        return None


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(status, {"error_code": code, "message": message, "request_id": None})

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            body = self._body() if method == "POST" else b""
            api.requests.append((method, self.path, body))
            if url.path == "/s3":
                if api.refuse_upload:
                    xml = (
                        b"<Error><Code>AccessDenied</Code><Message>Policy expired</Message></Error>"
                    )
                    self._send(403, xml, {"Content-Type": "application/xml"})
                else:
                    self._send(204, b"", {})
                return
            if url.path.startswith("/files/"):
                variant = url.path.rsplit(".", 1)[-1]
                if variant == "pdf":
                    self._send(200, PDF, {"Content-Type": "application/pdf"})
                else:  # another variant: named by the server (RFC 6266), folders stripped
                    name = quote(f"../año_{variant}.out")
                    disposition = f"attachment; filename=\"a_o.out\"; filename*=UTF-8''{name}"
                    self._send(200, variant.encode(), {"Content-Disposition": disposition})
                return
            tenant = _tenant(self.headers.get("Authorization"))
            if tenant is None:
                self._error(401, "unauthorized", "A valid bearer token is required.")
                return
            parts = url.path.removeprefix("/api/v1/jobs").strip("/").split("/")
            if url.path.rstrip("/") == "/api/v1/jobs":
                if method == "POST":
                    self._create(tenant, json.loads(body))
                else:
                    self._list(tenant, parse_qs(url.query))
                return
            job = api.jobs.get(parts[0])
            if parts[0] == "boom":
                self._error(500, "error", "Internal Server Error")
                return
            if job is None or job.tenant != tenant:
                self._error(404, "not_found", "No such job.")
                return
            suffix = parts[1] if len(parts) > 1 else ""
            if method == "DELETE":
                self._send(200, {"job_id": job.job_id, "outcome": "cancelled"})
            elif suffix == "":
                details = job.details()
                self._send(
                    200,
                    {
                        "job_id": job.job_id,
                        "workflow": {"state": "SUCCEEDED"},
                        "details": details,
                        "download_url": "https://x"
                        if details["processing_status"] == "completed"
                        else None,
                    },
                )
            elif suffix == "download":
                variant = parse_qs(url.query).get("variant", ["report"])[0]
                extension = "pdf" if variant == "report" else variant
                self._send(307, b"", {"Location": f"{api.base}/files/{job.job_id}.{extension}"})
            elif suffix == "history":
                if job.final[0] == "awaiting_upload":
                    self._send(
                        200,
                        {
                            **HISTORY,
                            "execution_arn": None,
                            "status": "PENDING",
                            "states": [],
                            "processing_status": "awaiting_upload",
                            "job_id": job.job_id,
                        },
                    )
                else:
                    self._send(200, {**HISTORY, "job_id": job.job_id})
            else:
                self._error(404, "not_found", "Not Found")

        def _create(self, tenant: str, body: dict[str, Any]) -> None:
            if body["file_size"] > api.max_file_size:
                self._error(422, "invalid_request", "file_size must be between 1 and 10 bytes")
                return
            job_id = f"job-{len(api.jobs) + 1}"
            settings = {"final": "completed", "script": list(RUNNING), **api.new_job}
            api.add(job_id, tenant=tenant, file_name=body["file_name"], **settings)
            self._send(
                201,
                {
                    "job_id": job_id,
                    "status": "awaiting_upload",
                    "upload": {"url": f"{api.base}/s3", "fields": {"key": f"uploads/{job_id}"}},
                },
            )

        def _list(self, tenant: str, query: dict[str, list[str]]) -> None:
            limit = int(query["limit"][0])
            start = int(query.get("cursor", ["0"])[0])
            mine = [job for job in api.jobs.values() if job.tenant == tenant]
            page = mine[start : start + limit]
            more = start + limit < len(mine)
            self._send(
                200,
                {
                    "jobs": [
                        {
                            "job_id": job.job_id,
                            "file_name": job.file_name,
                            "status": job.final[0],
                            "current_page": job.final[1],
                            "total_pages": job.final[3],
                            "created_at": "2026-03-02T09:29:58.123000",
                            "status_url": f"/api/v1/jobs/{job.job_id}",
                        }
                        for job in page
                    ],
                    "next_cursor": str(start + limit) if more else None,
                },
            )

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    for name in ("PAGEWISE_API_URL", "PAGEWISE_TOKEN", "PAGEWISE_TENANT"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    monkeypatch.setenv("PAGEWISE_API_URL", fake.base)
    monkeypatch.setenv("PAGEWISE_TOKEN", TOKEN)
    yield fake
    server.shutdown()
    server.server_close()


def run(*argv: str) -> int:
    """`pagewise ARGV...` in-process: its exit code, whether it returns or exits."""
    try:
        return main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "contrato.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"%" * 200)
    return path


# ---------------------------------------------------------------------------- submit


def test_submit_wait_shows_progress_then_downloads_the_pdf(
    api: FakeApi, sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = run(
        "submit", str(sample), "--wait", "--out", str(out), "--interval", "0.01",
        "--source-language", "es", "--layout", "bilingual",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    target = out / "contrato_translated.pdf"
    assert captured.out.strip() == str(target.resolve())  # stdout: the PDF's path only
    assert target.read_bytes() == PDF
    created = json.loads(next(body for method, path, body in api.requests if method == "POST"))
    assert created["file_name"] == "contrato.pdf" and created["content_type"] == "application/pdf"
    assert (created["source_language"], created["layout"]) == ("es", "bilingual")
    upload = next(body for method, path, body in api.requests if path == "/s3")
    assert b'name="key"' in upload and b"uploads/job-1" in upload and b"%PDF-1.7" in upload
    # Not a terminal: one line per change, in order, with the pages and the status name.
    lines = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert [line.split("  ")[1] for line in lines] == [
        "queued",
        "processing",
        "ocr_started",
        "ocr_completed",
        "translation_started",
        "summarising",
        "completed",
    ]
    assert "read 1/2, translated 0/2" in lines[2]
    assert lines[-1].startswith("[" + "#" * cli.BAR_WIDTH + "]")
    assert "\r" not in captured.err
    assert "summary: A lease of a flat in Madrid." in captured.err


def test_submit_without_wait_prints_the_job_id(
    api: FakeApi, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("submit", str(sample)) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == "job-1\n"
    assert "pagewise status job-1" in captured.err
    assert [path for method, path, _ in api.requests if method == "GET"] == []


def test_a_failed_job_exits_1_with_its_error(
    api: FakeApi, sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.new_job = {"final": "failed", "error": ("page_too_large", "Page 2 is too large.")}
    code = run("submit", str(sample), "--wait", "--interval", "0.01", "--out", str(tmp_path))
    captured = capsys.readouterr()
    assert code == EXIT_JOB_FAILED
    assert "pagewise: job job-1 failed: page_too_large: Page 2 is too large." in captured.err
    assert captured.out == ""
    assert not list(tmp_path.glob("*_translated.pdf"))


def test_waiting_past_the_timeout_exits_6_and_the_job_goes_on(
    api: FakeApi, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.new_job = {"final": "ocr_started", "script": []}
    code = run("submit", str(sample), "--wait", "--timeout", "0.05", "--interval", "0.02")
    assert code == EXIT_NOT_READY
    err = capsys.readouterr().err
    assert "still ocr_started after 0.05s" in err and "pagewise status job-1" in err


def test_an_upload_s3_refuses_exits_5_and_cancels_the_job(
    api: FakeApi, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.refuse_upload = True
    assert run("submit", str(sample), "--wait") == EXIT_API
    err = capsys.readouterr().err
    assert "S3 refused it (HTTP 403): AccessDenied: Policy expired" in err
    assert ("DELETE", "/api/v1/jobs/job-1", b"") in api.requests


def test_a_request_the_api_refuses_exits_2_with_its_message(
    api: FakeApi, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.max_file_size = 10
    assert run("submit", str(sample)) == EXIT_USAGE
    assert "(422): invalid_request: file_size must be between" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.pdf", None, "no such file"),
        ("notes.txt", b"hello", "unsupported file type"),
        ("empty.pdf", b"", "the file is empty"),
    ],
)
def test_files_that_cannot_be_sent_exit_2_before_any_request(
    api: FakeApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert run("submit", str(path)) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert api.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["submit"],
        ["submit", "x.pdf", "--out", "dir"],  # --out without --wait
        ["submit", "x.pdf", "--layout", "sideways"],
        ["submit", "x.pdf", "--wait", "--timeout", "0"],
        ["list", "--limit", "0"],
        ["list", "--limit", "many"],
        ["status"],
    ],
)
def test_bad_arguments_exit_2(api: FakeApi, argv: list[str]) -> None:
    assert run(*argv) == EXIT_USAGE
    assert api.requests == []


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--help") == EXIT_OK
    text = capsys.readouterr().out
    for line in ("0    success", "1    the job failed", "3    authentication", "4    not found"):
        assert line in text
    assert run("trace", "--help") == EXIT_OK
    assert "5    the API or S3 failed" in capsys.readouterr().out


# ---------------------------------------------------------------------------- status, download


def test_status_summarises_the_job(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("job-done")
    assert run("status", "job-done") == EXIT_OK
    out = capsys.readouterr().out
    assert re.search(r"^status +completed$", out, re.M)
    assert re.search(r"^pages +2/2 read, 2/2 translated$", out, re.M)
    assert re.search(r"^created +2026-03-02 09:29:58 UTC$", out, re.M)
    assert "pagewise download job-done" in out


def test_status_json_is_the_api_answer(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("job-failed", final="failed", error=("encrypted_pdf", "The PDF is protected."))
    assert run("status", "job-failed", "--json") == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert body["details"]["error_code"] == "encrypted_pdf"


def test_status_of_a_failed_job_shows_its_error(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-failed", final="failed", error=("encrypted_pdf", "The PDF is protected."))
    assert run("status", "job-failed") == EXIT_OK  # status reports; it does not judge
    assert re.search(
        r"^error +encrypted_pdf: The PDF is protected\.$", capsys.readouterr().out, re.M
    )


def test_an_unknown_or_foreign_job_exits_4(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-bob", tenant="bob")
    for command in ("status", "download", "trace"):
        assert run(command, "job-bob") == EXIT_NOT_FOUND, command
        assert "pagewise: job job-bob not found for tenant 'alice'" in capsys.readouterr().err
    assert run("status", "0123456789abcdef01234567") == EXIT_NOT_FOUND
    assert "job 0123456789abcdef01234567 not found" in capsys.readouterr().err


def test_download_writes_the_pdf_and_prints_its_path(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-done", file_name="../../etc/escrito.tiff")
    assert run("download", "job-done", "--out", str(tmp_path / "pdfs")) == EXIT_OK
    target = tmp_path / "pdfs" / "escrito_translated.pdf"  # no directories from the name
    assert capsys.readouterr().out.strip() == str(target.resolve())
    assert target.read_bytes() == PDF


def test_download_every_variant(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-done", file_name="escrito.pdf")
    assert run("download", "job-done", "--variant", "all", "--out", str(tmp_path)) == EXIT_OK
    printed = capsys.readouterr().out.split()
    names = ["escrito_translated.pdf", "año_overlay.out", "año_searchable.out", "año_docx.out"]
    assert printed == [str((tmp_path / name).resolve()) for name in names]
    assert (tmp_path / "año_docx.out").read_bytes() == b"docx"
    assert run("download", "job-done", "--variant", "overlay", "--out", str(tmp_path)) == EXIT_OK
    assert run("download", "job-done", "--variant", "html") == EXIT_USAGE


def test_download_of_an_unfinished_or_failed_job(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-running", final="translation_started")
    api.add("job-failed", final="failed", error=("corrupt_document", "Not a PDF."))
    assert run("download", "job-running", "--out", str(tmp_path)) == EXIT_NOT_READY
    assert "not finished yet (translation_started" in capsys.readouterr().err
    assert run("download", "job-failed", "--out", str(tmp_path)) == EXIT_JOB_FAILED
    assert "corrupt_document: Not a PDF." in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_an_unwritable_out_folder_exits_2(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-done")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert run("download", "job-done", "--out", str(blocker / "sub")) == EXIT_USAGE
    assert "cannot create" in capsys.readouterr().err


# ---------------------------------------------------------------------------- list, trace


def test_list_pages_through_the_api_up_to_the_limit(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(150):
        api.add(f"job-{n:03d}", file_name=f"doc-{n}.pdf")
    api.add("job-bob", tenant="bob")
    assert run("list", "--limit", "120", "--json") == EXIT_OK
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert [job["job_id"] for job in jobs] == [f"job-{n:03d}" for n in range(120)]
    limits = [parse_qs(urlsplit(path).query)["limit"] for _, path, _ in api.requests]
    assert limits == [["100"], ["20"]]
    assert run("list", "--limit", "2") == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["JOB", "CREATED", "STATUS", "PAGES", "FILE"]
    assert lines[1].split() == [
        "job-000",
        "2026-03-02",
        "09:29:58",
        "completed",
        "2/2",
        "doc-0.pdf",
    ]
    assert len(lines) == 3


def test_list_with_no_jobs_says_so(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("list") == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == "" and "no jobs" in captured.err


def test_trace_shows_each_state_with_its_timing_retries_and_error(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-done")
    assert run("trace", "job-done") == EXIT_OK
    out = capsys.readouterr().out
    assert "execution SUCCEEDED" in out and "took 5.4" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("P", "T", " "))}
    assert rows["Prepare"].split()[1:] == ["+0.00s", "316ms", "0", "succeeded"]
    retried = rows["TranslatePage[page"]
    assert retried.startswith("  TranslatePage[page 1]")  # indented under its Map
    assert "3.74s" in retried and "retried after LlmUnavailable x2" in retried
    assert "    error: JobFailed: page_too_large: Page 2 is 40000 x 40000 pixels" in out


def test_trace_of_a_job_without_an_execution(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("job-new", final="awaiting_upload", total=None)
    assert run("trace", "job-new") == EXIT_OK
    assert "has no execution (job status: awaiting_upload)" in capsys.readouterr().out
    assert run("trace", "job-new", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["status"] == "PENDING"


def test_render_trace_of_a_running_state() -> None:
    history = {
        **HISTORY,
        "status": "RUNNING",
        "stopped_at": None,
        "duration_ms": None,
        "states": [{**HISTORY["states"][0], "status": "running", "duration_ms": None}],  # type: ignore[index]
    }
    lines = render_trace(history)
    assert "took -" in lines[0]
    assert lines[-1].split()[:3] == ["Prepare", "+0.00s", "running"]


# ---------------------------------------------------------------------------- auth, network


def test_a_refused_token_exits_3(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("list", "--token", "garbage") == EXIT_AUTH
    assert "the API refused the token (401)" in capsys.readouterr().err


def test_no_token_for_a_remote_api_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAGEWISE_TOKEN", raising=False)
    assert run("list", "--api-url", "https://api.example.com/prod") == EXIT_AUTH
    assert "no token: pass --token or set PAGEWISE_TOKEN" in capsys.readouterr().err


def test_api_errors_and_an_unreachable_api_exit_5(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("status", "boom") == EXIT_API
    assert "the API answered HTTP 500: Internal Server Error" in capsys.readouterr().err
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert run("list", "--api-url", closed) == EXIT_API
    assert f"cannot reach the API at {closed}" in capsys.readouterr().err


def test_a_url_that_is_not_http_exits_2(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("list", "--api-url", "ftp://example.com") == EXIT_USAGE
    assert "is not an http(s) URL" in capsys.readouterr().err


# ---------------------------------------------------------------------------- configuration


def test_flags_work_before_or_after_the_command_and_win_over_the_environment(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.add("job-bob", tenant="bob")
    monkeypatch.setenv("PAGEWISE_API_URL", "http://127.0.0.1:9/nowhere")
    assert run("--api-url", api.base, "--token", "tok-bob", "status", "job-bob") == EXIT_OK
    assert run("status", "job-bob", "--api-url", api.base, "--token", "tok-bob") == EXIT_OK
    assert run("--token", "tok-bob", "status", "job-bob", "--api-url", api.base) == EXIT_OK


def test_on_the_local_stack_it_finds_the_url_and_signs_a_token(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAGEWISE_API_URL")
    monkeypatch.delenv("PAGEWISE_TOKEN")
    monkeypatch.setattr(cli.connection, "stack_outputs", lambda: {"ApiUrl": api.base + "/"})
    api.add("job-carol", tenant="carol")
    monkeypatch.setenv("PAGEWISE_TENANT", "carol")
    assert run("status", "job-carol") == EXIT_OK  # the fake API reads the tenant from sub
    assert run("status", "job-carol", "--tenant", "dave") == EXIT_NOT_FOUND
    assert "not found for tenant 'dave'" in capsys.readouterr().err
    monkeypatch.delenv("PAGEWISE_TENANT")
    api.add("job-demo", tenant="demo")
    assert run("status", "job-demo") == EXIT_OK  # the default tenant


def test_without_a_url_or_a_local_stack_it_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("PAGEWISE_API_URL", "PAGEWISE_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def no_stack() -> dict[str, str]:
        raise subprocess.CalledProcessError(
            1, ["stack.sh", "outputs"], stderr="Traceback...\nEndpointConnectionError: refused\n"
        )

    monkeypatch.setattr(cli.connection, "stack_outputs", no_stack)
    assert run("list") == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no API URL: pass --api-url or set PAGEWISE_API_URL" in err
    assert "EndpointConnectionError: refused" in err


# ---------------------------------------------------------------------------- the progress bar


def _details(status: str, read: int, translated: int, total: int | None) -> dict[str, Any]:
    return {
        "processing_status": status,
        "current_page": read,
        "pages_translated": translated,
        "total_pages": total,
    }


def test_on_a_terminal_the_bar_redraws_one_line() -> None:
    stream = io.StringIO()
    progress = Progress(stream, started=0.0, tty=True)
    progress.update(_details("ocr_started", 1, 0, 4))
    progress.update(_details("ocr_started", 1, 0, 4))
    progress.update(_details("translation_started", 4, 2, 4))
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    frames = text.strip("\n").split("\r")[1:]
    assert frames[0].startswith("[###" + "." * 21 + "] read 1/4, translated 0/4  ocr_started")
    # Pages fill 90% of the bar: 6 of 8 page steps -> 16 of 24.
    assert frames[2].startswith("[" + "#" * 16 + "." * 8 + "] read 4/4, translated 2/4")


def test_off_a_terminal_it_writes_a_line_per_change() -> None:
    stream = io.StringIO()
    progress = Progress(stream, started=0.0, tty=False)
    for details in (
        _details("queued", 0, 0, None),
        _details("queued", 0, 0, None),
        _details("processing", 0, 0, 3),
        _details("completed", 3, 3, 3),
    ):
        progress.update(details)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert "read 0/?, translated 0/?  queued" in lines[0]
    assert lines[2].startswith("[" + "#" * cli.BAR_WIDTH + "]")
