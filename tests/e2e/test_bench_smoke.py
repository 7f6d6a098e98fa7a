"""Each benchmark runs once with tiny inputs, so `make bench` never rots: the scripts run
against the deployed stack and their table rows must hold real figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _bench(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]
    return result.stdout


def _rows(output: str) -> dict[str, list[str]]:
    """The results table (benchmark | measurement | value | baseline | ratio | notes) by
    measurement."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if (
            len(cells) == 6
            and cells[0] not in ("benchmark", "---")
            and not cells[0].startswith("-")
        ):
            rows[cells[1]] = cells
    return rows


def _value(cells: list[str]) -> float:
    return float(cells[2].split()[0])


def _row(rows: dict[str, list[str]], prefix: str) -> list[str]:
    found = [cells for measurement, cells in rows.items() if measurement.startswith(prefix)]
    assert len(found) == 1, (prefix, list(rows))
    return found[0]


def test_api_latency_benchmark_runs() -> None:
    output = _bench("api_latency.py", "--smoke")
    rows = [
        line
        for line in output.splitlines()
        if line.startswith("| gateway") or line.startswith("| in-process")
    ]
    assert len(rows) == 6, output
    for row in rows:
        p50 = float(row.split("|")[4])
        assert p50 > 0, row
    figures = _rows(output)
    post = _row(figures, "gateway POST /api/v1/jobs p50")
    assert _value(post) > 0 and float(post[4]) > 0, post  # a ratio to the bare hello


def test_ocr_throughput_benchmark_runs() -> None:
    rows = _rows(_bench("ocr_throughput.py", "--smoke"))
    cli = _row(rows, "raw engine: tesseract CLI")
    in_process = _row(rows, "raw engine: tesserocr in process")
    for engine in (cli, in_process):
        assert _value(engine) > 0 and engine[4] == "", engine
    # One of the two is the baseline every other row is a ratio to: the faster one.
    best = max((cli, in_process), key=_value)
    assert best[5] == "baseline: best raw engine", (cli, in_process)
    for measured in ("language undeclared (probe)", "language declared (es)"):
        stack = _row(rows, f"Pagewise, {measured}, upload to ocr_completed, 1 pages")
        assert _value(stack) > 0 and float(stack[4]) > 0, stack
        assert stack[3].startswith(best[1].split(", 1 pages")[0]), stack
    ocrmypdf = _row(rows, "ocrmypdf")
    assert ocrmypdf[5] == "not installed" or float(ocrmypdf[4]) > 0, ocrmypdf
    if ocrmypdf[5] != "not installed":
        versus = _row(rows, "Pagewise (undeclared) vs ocrmypdf, 1 pages")
        assert versus[3].startswith("ocrmypdf") and float(versus[4]) > 0, versus


def test_born_digital_benchmark_runs() -> None:
    # The script itself fails if any born-digital page went through OCR.
    row = _row(_rows(_bench("born_digital.py", "--smoke")), "3-page born-digital PDF")
    assert _value(row) > 0, row
    assert "1-page scanned PDF" in row[3] and float(row[4]) > 0, row


def test_overhead_benchmark_accounts_for_the_wall_time() -> None:
    rows = _rows(_bench("overhead.py"))
    wall = _value(_row(rows, "1-page born-digital PDF, language undeclared, upload to completed"))
    declared = _row(rows, "1-page born-digital PDF, language declared (es)")
    assert _value(declared) > 0 and float(declared[4]) > 0, declared
    own_row = _row(rows, "functions' own time")
    own = _value(own_row)
    orchestration = _value(_row(rows, "orchestration"))
    # Every task of the execution (and Ingest) was matched to its REPORT line in CloudWatch.
    assert "no REPORT found" not in own_row[5], own_row
    for state in ("Prepare", "OcrPage", "TranslatePage", "Summarise", "Render", "Finish", "Ingest"):
        assert state in own_row[5], own_row
    assert 0 < own < wall and orchestration > 0
    # Orchestration is wall - own and its parts sum to it by construction: what can go wrong
    # is a part found negative (a REPORT matched to the wrong task, a clock mismatch).
    parts = {
        measurement: _value(cells)
        for measurement, cells in rows.items()
        if measurement.startswith("of which")
    }
    assert len(parts) == 4 and all(value >= 0 for value in parts.values()), parts


def test_scale_benchmark_completes_every_job_and_samples_memory() -> None:
    rows = _rows(_bench("scale.py", "--smoke"))
    completed = _row(rows, "2 jobs x 1 pages at once: completed")
    assert _value(completed) == 2 and float(completed[4]) == 1.0, completed
    memory = _row(rows, "peak RSS of the local stack")
    # LocalStack alone idles at about 130 MB; the sum must have found its process tree.
    assert _value(memory) > 100, memory
    # The jobs ran in Lambda environments (one worker process each), alive while they ran;
    # the peak is never far below the idle sum taken just before.
    lambda_processes = re.search(r"(\d+) Lambda processes", memory[5])
    assert lambda_processes and int(lambda_processes.group(1)) >= 2, memory
    assert float(memory[4]) >= 0.95, memory
    # The PSS of the same processes: shared pages counted once, so below the RSS sum.
    pss = _row(rows, "PSS of the same processes at that peak")
    assert 0 < _value(pss) < _value(memory), (pss, memory)
    # The load's pages/min next to the best raw engine's on the same pages.
    throughput = _row(rows, "2 jobs x 1 pages: pages/min")
    assert throughput[3].startswith("best raw engine, same 2 pages"), throughput
    assert _value(throughput) > 0 and float(throughput[4]) > 0, throughput


def test_executor_overhead_benchmark_runs() -> None:
    rows = _rows(_bench("executor_overhead.py", "--smoke"))
    round_trip = _row(rows, "bench hello warm invoke round trip")
    assert _value(round_trip) > 0 and float(round_trip[4]) > 0, round_trip
    assert _value(_row(rows, "processes per execution environment")) >= 1
    rss = _value(_row(rows, "RSS per execution environment"))
    pss = _value(_row(rows, "PSS per execution environment"))
    assert 0 < pss <= rss, (pss, rss)


def test_translation_benchmark_runs() -> None:
    rows = _rows(_bench("translation.py", "--smoke"))
    row = _row(rows, "4 pages, fake LLM answering after 1.0 s")
    assert row[3].startswith("ideal, pages x 1 s"), row
    assert _value(row) > 0 and float(row[4]) > 0, row
    # Every page was translated by the fake LLM (the page, then its blocks for the overlay).
    calls = re.match(r"(\d+) translation calls for 4 pages", row[5])
    assert calls and int(calls.group(1)) >= 4, row


def test_render_profile_benchmark_runs() -> None:
    rows = _rows(_bench("render_profile.py", "--smoke"))
    row = _row(rows, "Render in process, samples/contrato-2-paginas.pdf: CPU s per job")
    assert row[3].startswith("open + save of the source with PyMuPDF"), row
    assert _value(row) > 0 and float(row[4]) > 0, row
    # Every variant's drawing seconds, from the result Render stored.
    for variant in ("overlay", "searchable", "docx", "previews", "report"):
        assert re.search(rf"\b{variant} \d+\.\d+", row[5]), row


def test_cold_start_and_the_results_file(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    # bench/run.py, as `make bench` runs it, limited to the cheapest benchmark.
    _bench("run.py", "--smoke", "--only", "cold-start", "--out", str(out))
    text = out.read_text()
    for fact in ("CPU:", "cores:", "RAM:", "tesseract", "LocalStack: localstack-core 2026"):
        assert fact in text, text
    assert re.search(r"at commit [0-9a-f]{40}", text), text  # the commit it measured
    rows = _rows(text)
    api = _row(rows, "import api handler")
    ocr = _row(rows, "import ocr_page handler")
    # The script exits non-zero when the API imports a document library or openai.
    assert "heavy" not in api[5] and _value(api) > 0, api
    assert float(api[4]) > 0, api  # the ratio to the bare Mangum hello
    assert _value(ocr) > 0, ocr
    # The check reads what the handler really imports (-X importtime): the API's own stack.
    sys.path.insert(0, str(ROOT / "bench"))
    from cold_start import import_profile

    profile = import_profile("api")
    assert {"fastapi", "mangum", "pagewise", "jwt"} <= profile.modules, sorted(profile.modules)
    assert not profile.heavy, profile.heavy
