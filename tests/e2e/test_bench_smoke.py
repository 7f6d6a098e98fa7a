"""Each benchmark runs once with tiny inputs, so `make bench` never rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_api_latency_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "api_latency.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("| gateway") or line.startswith("| in-process")
    ]
    assert len(rows) == 6, result.stdout
    for row in rows:
        p50 = float(row.split("|")[4])
        assert p50 > 0, row


def test_ocr_throughput_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ocr_throughput.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [
        line for line in result.stdout.splitlines() if line.startswith("| ") and "|---" not in line
    ]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert names[0].startswith("raw tesseract") and names[1].startswith("Pagewise"), result.stdout
