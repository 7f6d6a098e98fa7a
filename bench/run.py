"""`make bench`: every benchmark against the running local stack, in one run, as ONE table of
figures each with its ratio to the baseline measured in the same run; written to
bench/RESULTS.md with the machine's description.

Order matters a little: the OCR benchmark's scanned documents are the born-digital
benchmark's comparison, and cold start runs last so that it reads the REPORT lines of every
environment the run started. The figures issue 16 sets a goal for are also listed, with the
goal, in a table of their own at the top of RESULTS.md; RESULTS.md names the commit measured.

Usage: python bench/run.py [--smoke] [--out bench/RESULTS.md] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import api_latency
import born_digital
import cold_start
import executor_overhead
import ocr_throughput
import overhead
import render_profile
import scale
import translation
from benchkit import ROOT, Figure, StackRun, results_markdown, table

NAMES = (
    "ocr", "born-digital", "api", "executor", "overhead", "translation", "scale", "render",
    "cold-start",
)  # fmt: skip

PREAMBLE = """\
Produced by `make bench` (bench/run.py); every ratio is to a baseline measured in the same
run, on the same machine, with the same pages. Absolute times depend on how busy this
shared 2-core machine was; the ratios are the figures to compare between runs. What each
benchmark measures, and how, is in the docstring of its script in bench/.

Reading the cold-start rows: the import times are the best of 3 fresh imports each;
the first-invoke rows cover every execution environment in the logs, most of them started
during the scale benchmark's burst, when dozens of environments initialise at once on two
cores, so their Init Durations are those of a loaded machine. The scale run's idle memory
includes the environments earlier benchmarks left warm.

"Best raw engine": the faster, in this run, of Debian's tesseract CLI and tesserocr in
process, one per core, on the same pages. "Language undeclared" rows are the headline (the
language probe included); the declared rows beside them are the baseline for that. Where
each figure's seconds go, process by process: `python bench/profile_job.py` and
docs/benchmarks.md."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny inputs: does it all run?")
    parser.add_argument("--out", type=Path, help="default: bench/RESULTS.md (not with --smoke)")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    args = parser.parse_args()
    smoke: bool = args.smoke
    out: Path | None = args.out or (None if smoke else ROOT / "bench" / "RESULTS.md")

    scanned: dict[int, StackRun] = {}
    # The raw engine the OCR benchmark found faster: the scale benchmark measures only it.
    faster: list[str] = list(ocr_throughput.ENGINES)
    figures: list[Figure] = []
    took: dict[str, float] = {}

    def ocr() -> list[Figure]:
        found, runs = ocr_throughput.run(
            [1] if smoke else [8, 32], declared_too=not smoke, warm_up=not smoke
        )
        scanned.update(runs)
        baseline = next(f for f in found if f.note == "baseline: best raw engine")
        faster[:] = ["cli" if "CLI" in baseline.measurement else "tesserocr"]
        return found

    def digital() -> list[Figure]:
        reference = scanned[max(scanned)] if scanned else None
        return born_digital.run(3 if smoke else 100, reference, 1 if smoke else 8)

    def api() -> list[Figure]:
        return api_latency.figures(api_latency.run(*((5, 1) if smoke else (200, 10))))

    steps: dict[str, Callable[[], list[Figure]]] = {
        "ocr": ocr,
        "born-digital": digital,
        "api": api,
        "executor": lambda: executor_overhead.run(10 if smoke else 200),
        "overhead": overhead.run,
        "translation": lambda: translation.run(4 if smoke else 32),
        "scale": lambda: scale.run(*((2, 1) if smoke else (20, 5)), tuple(faster)),
        # In process (no stack): Render's CPU per job against opening and saving the source.
        "render": lambda: render_profile.run(smoke),
        "cold-start": lambda: cold_start.run(smoke),
    }
    for name in NAMES:
        if name not in args.only:
            continue
        started = time.monotonic()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        figures += steps[name]()
        took[name] = time.monotonic() - started
        print(f"[bench] {name}: {took[name]:.0f} s", file=sys.stderr, flush=True)

    print(table(figures))
    if out is not None:
        out.write_text(results_markdown(figures, "Pagewise benchmark results", PREAMBLE, took))
        print(f"\nwritten to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
