"""Render in process: CPU seconds per job, per output variant, and where they go (cProfile).

No stack: SecantusDB in memory and moto's S3 in this process, as the unit tests run the
pipeline (tests/unit/logic/test_outputs_pipeline.py). Each document goes through Prepare,
OcrPage (the OCR engine in process), TranslatePage (offline: the Apertium gist) and Summarise
once, untimed; then `Pipeline.render` runs `--runs` times on the same job: the first run is the
first invoke of a fresh environment for the sample (imports, fonts), the rest are warm.

- the sample contract (samples/contrato-2-paginas.pdf: a born-digital page and a scan);
- a scale job, as bench/scale.py submits them: 5 pages, page 1 scanned, 4 born-digital;
- a 5-page scan (benchkit.make_pdf: 300-dpi JPEG pages of Spanish clauses).

Figures: the warm median of the process CPU seconds (time.process_time: every thread, moto's
handling of the S3 writes included) per job, against a baseline from the same run: opening and
saving the source PDF with PyMuPDF once (`tobytes(garbage=3, deflate=True)`, what Render does
to each of its PDFs). The notes give `render_seconds` per variant (RenderedOutputs.seconds,
drawing only: the S3 writes overlap) and the sample's first-run CPU.

Usage: python bench/render_profile.py [--runs 6] [--smoke] [--profile N]
       (--profile N: the N top cumulative entries of one more, untimed, run per document)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

import boto3  # noqa: E402
import pymupdf  # noqa: E402
from benchkit import Figure, make_pdf, table  # noqa: E402
from moto import mock_aws  # noqa: E402
from pagewise.data.mongo import ensure_indexes  # noqa: E402
from pagewise.logic.pipeline import Pipeline  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from tests.support.secantus import start_in_memory_secantus, stop_secantus  # noqa: E402
from tests.unit.builders import a_job_run_through, a_pipeline  # noqa: E402

BENCHMARK = "Render"
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"
BUCKET = "bench-render"


@dataclass
class Measured:
    name: str
    pages: int
    cpu: list[float] = field(default_factory=list)  # per run, the first one first
    seconds: list[dict[str, float]] = field(default_factory=list)  # render_seconds per run
    baseline: float = 0.0
    profile: str = ""

    def warm(self) -> list[float]:
        return self.cpu[1:] or self.cpu

    def variant_medians(self) -> dict[str, float]:
        runs = self.seconds[1:] or self.seconds
        return {v: statistics.median(run[v] for run in runs) for v in runs[0]}


@contextmanager
def _in_process_stack() -> Iterator[Pipeline]:
    """SecantusDB in memory on a free port and moto's S3, as the unit tests have them."""
    try:
        server, uri = start_in_memory_secantus()
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    saved = {key: os.environ.get(key) for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}
    try:
        db = client["bench_render"]
        ensure_indexes(db)
        os.environ.pop("AWS_ENDPOINT_URL", None)  # moto, not the local stack
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            yield a_pipeline(db, uri, BUCKET)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        client.close()
        stop_secantus(server)


def _open_and_save(data: bytes) -> float:
    started = time.process_time()
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        doc.tobytes(garbage=3, deflate=True)
    return time.process_time() - started


def measure(pipeline: Pipeline, name: str, data: bytes, runs: int, profile: int = 0) -> Measured:
    job_id = a_job_run_through(pipeline, data, until="summarise")
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        measured = Measured(name=name, pages=doc.page_count)
    # With --profile, one more run, profiled and left out of the figures.
    for run in range(runs + (1 if profile else 0)):
        profiler = cProfile.Profile() if run == runs else None
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        pipeline.render(job_id)
        if profiler is None:
            measured.cpu.append(time.process_time() - started)
            stored = pipeline.results.get(job_id) or {}
            measured.seconds.append(dict(stored.get("render_seconds") or {}))
        else:
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.strip_dirs().sort_stats("cumulative").print_stats(profile)
            measured.profile = out.getvalue()
    measured.baseline = statistics.median(_open_and_save(data) for _ in range(max(runs, 3)))
    return measured


def documents(smoke: bool) -> list[tuple[str, bytes]]:
    found = [("samples/contrato-2-paginas.pdf", SAMPLE.read_bytes())]
    if smoke:
        return found
    with tempfile.TemporaryDirectory() as tmp:
        scale = make_pdf(Path(tmp) / "scale.pdf", scanned=1, digital=4).read_bytes()
        scan = make_pdf(Path(tmp) / "scan.pdf", scanned=5).read_bytes()
    return [
        *found,
        ("scale job: 1 scanned + 4 born-digital pages", scale),
        ("5 scanned pages", scan),
    ]


def figures(results: list[Measured]) -> list[Figure]:
    found = []
    for m in results:
        variants = ", ".join(f"{v} {s:.3f}" for v, s in m.variant_medians().items())
        first = f"; first run {m.cpu[0]:.2f} s CPU" if m is results[0] else ""
        found.append(
            Figure(
                BENCHMARK,
                f"Render in process, {m.name}: CPU s per job (warm median of {len(m.warm())})",
                statistics.median(m.warm()),
                "s",
                "open + save of the source with PyMuPDF",
                m.baseline,
                note=f"drawing s per variant: {variants}{first}",
            )
        )
    return found


def run(smoke: bool = False, runs: int | None = None, profile: int = 0) -> list[Figure]:
    count = runs or (2 if smoke else 6)
    with _in_process_stack() as pipeline:
        results = [measure(pipeline, name, data, count, profile) for name, data in documents(smoke)]
    for m in results:
        if m.profile:
            print(f"--- {m.name}: cProfile of the last run, by cumulative time\n{m.profile}")
    return figures(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="the sample only, 2 runs")
    parser.add_argument("--runs", type=int, help="renders per document (default 6; smoke 2)")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    print(table(run(args.smoke, args.runs, args.profile)))


if __name__ == "__main__":
    main()
