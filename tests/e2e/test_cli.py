"""The installed `pagewise` command line against the deployed stack, as a person would run it.

`submit --wait` finds the API URL and signs a local token by itself (stack outputs); the other
commands get them from PAGEWISE_API_URL and PAGEWISE_TOKEN.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from tests.stack import STATUS_ORDER, outputs, require_stack, tenant_token

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
PAGEWISE = Path(sys.executable).parent / "pagewise"  # the dev venv's console script
TENANT = f"e2e-cli-{uuid.uuid4().hex[:8]}"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEWISE_")}
    return {**env, **extra}


def pagewise(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    return subprocess.run(
        [str(PAGEWISE), *args],
        env=env
        if env is not None
        else _env(PAGEWISE_API_URL=outputs()["ApiUrl"], PAGEWISE_TOKEN=tenant_token(TENANT)),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def submitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_stack()
    assert PAGEWISE.exists(), "the pagewise CLI is not installed: run `make dev`"
    out = tmp_path_factory.mktemp("cli-out")
    started = time.monotonic()
    result = pagewise(
        "submit", str(SAMPLE), "--wait", "--out", str(out), "--tenant", TENANT,
        "--interval", "0.5",
        env=_env(),  # nothing configured: the stack outputs and a local token
        timeout=300,
    )  # fmt: skip
    seconds = time.monotonic() - started
    created = re.search(r"job ([0-9a-f]{24}) created", result.stderr)
    assert created, result.stderr
    return {"result": result, "job_id": created.group(1), "out": out, "seconds": seconds}


def test_submit_wait_shows_progress_and_downloads_the_pdf(submitted: dict[str, Any]) -> None:
    result = submitted["result"]
    assert result.returncode == 0, result.stderr
    pdf = Path(result.stdout.strip())
    assert pdf == submitted["out"] / "contrato-2-paginas_translated.pdf"
    with pymupdf.open(pdf) as document:
        assert document.page_count >= 2
    # Not a terminal: one progress line per change, statuses in order, ending full.
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    statuses = [line.split("  ")[1] for line in lines]
    assert statuses[-1] == "completed"
    assert {"ocr_started", "ocr_completed", "translation_started"} & set(statuses)
    order = [STATUS_ORDER.index(status) for status in statuses]
    assert order == sorted(order), statuses  # statuses only move forward
    assert "read 2/2, translated 2/2" in lines[-1]
    assert lines[-1].startswith("[########################]")
    assert "\r" not in result.stderr
    print(f"\ncli submit --wait: {submitted['seconds']:.1f}s")


def test_status_reports_the_finished_job(submitted: dict[str, Any]) -> None:
    job_id = submitted["job_id"]
    human = pagewise("status", job_id)
    assert human.returncode == 0, human.stderr
    assert re.search(r"^status +completed$", human.stdout, re.M)
    assert re.search(r"^pages +2/2 read, 2/2 translated$", human.stdout, re.M)
    assert re.search(r"^execution +SUCCEEDED$", human.stdout, re.M)
    raw = pagewise("status", job_id, "--json")
    assert raw.returncode == 0
    assert json.loads(raw.stdout)["details"]["processing_status"] == "completed"


def test_list_shows_the_tenants_jobs(submitted: dict[str, Any]) -> None:
    listed = pagewise("list", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].split()[:3] == ["JOB", "CREATED", "STATUS"]
    assert any(row.startswith(submitted["job_id"]) and "completed" in row for row in rows[1:])
    as_json = json.loads(pagewise("list", "--json").stdout)
    assert [job["job_id"] for job in as_json["jobs"]] == [submitted["job_id"]]


def test_trace_shows_the_execution_state_by_state(submitted: dict[str, Any]) -> None:
    job_id = submitted["job_id"]
    trace = pagewise("trace", job_id)
    assert trace.returncode == 0, trace.stderr
    assert f"job {job_id}  execution SUCCEEDED" in trace.stdout
    for state in (
        "Prepare",
        "OcrPages",
        "  OcrPage[page 1]",
        "  OcrPage[page 2]",
        "PlanTranslation",
        "TranslatePages",
        "  TranslatePage[page 1]",
        "  TranslatePage[page 2]",
        "Summarise",
        "Render",
        "Finish",
    ):
        assert re.search(rf"^{re.escape(state)} .* succeeded$", trace.stdout, re.M), state
    history = json.loads(pagewise("trace", job_id, "--json").stdout)
    assert history["status"] == "SUCCEEDED"
    assert history["execution_arn"].endswith(f":{job_id}")
    names = [state["state"] for state in history["states"]]
    assert names[0] == "Prepare" and names[-1] == "Finish"
    assert {"OcrPage[page 1]", "OcrPage[page 2]", "TranslatePage[page 2]"} <= set(names)
    for state in history["states"]:
        assert state["status"] == "succeeded" and state["duration_ms"] >= 0, state
        assert state["attempts"] >= 1 and state["error"] is None
    first, last = history["states"][0], history["states"][-1]
    assert first["entered_at"] <= last["entered_at"]
    assert (
        history["duration_ms"]
        >= sum(state["duration_ms"] for state in history["states"] if state["depth"] == 0) - 1000
    )  # top-level states run one after another


def test_download_again(submitted: dict[str, Any], tmp_path: Path) -> None:
    result = pagewise("download", submitted["job_id"], "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).read_bytes().startswith(b"%PDF")


def test_failures_have_clear_messages_and_exit_codes(submitted: dict[str, Any]) -> None:
    missing = pagewise("status", "0123456789abcdef01234567")
    assert missing.returncode == 4
    assert "job 0123456789abcdef01234567 not found" in missing.stderr
    assert missing.stdout == ""
    assert pagewise("trace", "no-such-job").returncode == 4
    # Another tenant's job is not found either.
    other = pagewise(
        "status",
        submitted["job_id"],
        env=_env(PAGEWISE_API_URL=outputs()["ApiUrl"], PAGEWISE_TOKEN=tenant_token("e2e-other")),
    )
    assert other.returncode == 4 and "not found for tenant 'e2e-other'" in other.stderr
    refused = pagewise("list", "--token", "not-a-token")
    assert refused.returncode == 3 and "refused the token (401)" in refused.stderr
    unsupported = pagewise("submit", str(ROOT / "README.md"))
    assert unsupported.returncode == 2 and "unsupported file type" in unsupported.stderr
