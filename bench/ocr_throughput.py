"""OCR throughput: pages/minute of Pagewise's OCR stage through the deployed local stack
(upload to `ocr_completed`) on a scanned PDF, next to, on the same pages in the same run:

(a) the raw engines, one process per core, on the same pages rasterised beforehand (300 dpi
    greyscale, not timed), language `spa+eng`: Debian's `tesseract` CLI (OMP_THREAD_LIMIT=1,
    one process per page) and tesserocr in process (libtesseract through its Python binding,
    one warm engine per worker process, as the OcrPage function keeps one). The faster of
    the two is the *best raw engine*: this machine's ceiling, and the baseline;
(b) `ocrmypdf --force-ocr -j <cores>` on the same PDF (installed by
    scripts/install-bench-deps.sh): the tool users would otherwise pick. Pagewise's ratio to
    it is a row of its own.

Before any measurement a job of one scanned page per core runs through the stack, so the
OcrPage environments and their engines are warm, as in a service that is in use (a cold
environment's start is in bench/cold_start.py and docs/benchmarks.md).

Pagewise runs each document twice: without a declared language (the headline: each page's
language is found by the probe, or by earlier pages), and declared (`source_language=es`).

Needs the local stack (`make up`). Usage: python bench/ocr_throughput.py [--pages 8 32] [--smoke]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from benchkit import Figure, StackRun, make_pdf, run_job, table
from ocr_engine import rasters
from pagewise.documents.ocr.raster import Raster

BENCHMARK = "OCR throughput"
LANGUAGES = "spa+eng"
# The traineddata both raw engines read: Debian's, what the CLI uses (TESSDATA_PREFIX wins).
DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
# Issue 16's goals for the headline (language undeclared) ÷ the best raw engine, by page count;
# and Pagewise ÷ ocrmypdf on both.
RAW_ENGINE_GOALS = {8: "ratio >= 0.75", 32: "ratio >= 0.90"}
OCRMYPDF_GOAL = "ratio >= 2.0"


@dataclass(frozen=True)
class Throughput:
    name: str
    pages: int
    seconds: float

    @property
    def pages_per_minute(self) -> float:
        return self.pages / self.seconds * 60


def raw_tesseract(rasters: list[Raster], workdir: Path) -> Throughput:
    images: list[Path] = []
    written: dict[int, Path] = {}  # a page read more than once is written once
    for raster in rasters:
        if id(raster) not in written:
            written[id(raster)] = workdir / f"page-{len(written) + 1}.pnm"
            header = b"P5\n%d %d\n255\n" % (raster.width, raster.height)
            written[id(raster)].write_bytes(header + raster.samples)
        images.append(written[id(raster)])
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def ocr(image: Path) -> None:
        subprocess.run(
            ["tesseract", str(image), "stdout", "-l", LANGUAGES, "--dpi", "300"],
            check=True,
            capture_output=True,
            env=env,
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(ocr, images))
    return Throughput(
        f"raw engine: tesseract CLI, {os.cpu_count()} processes",
        len(images),
        time.monotonic() - started,
    )


# -- tesserocr, one warm engine per worker process --------------------------------------------

_ENGINE = None


def _start_engine(tessdata: str) -> None:
    global _ENGINE
    os.environ["OMP_THREAD_LIMIT"] = "1"  # read when libtesseract loads: before the import
    import tesserocr

    _ENGINE = tesserocr.PyTessBaseAPI(path=tessdata, lang=LANGUAGES, psm=tesserocr.PSM.AUTO)


def _engine_ready(_: int) -> int:
    time.sleep(0.2)  # long enough that every worker gets one of these, and starts
    return os.getpid()


def _read(raster: Raster) -> int:
    assert _ENGINE is not None
    _ENGINE.SetImageBytes(raster.samples, raster.width, raster.height, 1, raster.width)
    _ENGINE.SetSourceResolution(300)
    return len(_ENGINE.GetUTF8Text())


def tessdata_dir() -> str:
    return os.environ.get("TESSDATA_PREFIX") or DEBIAN_TESSDATA


def raw_tesserocr(rasters: list[Raster]) -> Throughput:
    """tesserocr in process, one engine per core, initialised before the clock starts (an
    OcrPage environment keeps its engine warm between pages)."""
    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        cores, mp_context=context, initializer=_start_engine, initargs=(tessdata_dir(),)
    ) as pool:
        list(pool.map(_engine_ready, range(cores * 2)))
        started = time.monotonic()
        characters = list(pool.map(_read, rasters))
        seconds = time.monotonic() - started
    if not all(characters):
        raise SystemExit("tesserocr read nothing on a page of text: check its traineddata")
    return Throughput(f"raw engine: tesserocr in process, {cores} processes", len(rasters), seconds)


ENGINES = ("cli", "tesserocr")


def best_raw_engine(
    rasters: list[Raster], workdir: Path, engines: tuple[str, ...] = ENGINES
) -> tuple[Throughput, list[Throughput]]:
    """The faster raw engine on these pages, and the measurements (CLI first). ``engines``
    limits them to those named (a later benchmark that knows which one was faster)."""
    measured = []
    if "cli" in engines:
        measured.append(raw_tesseract(rasters, workdir))
    if "tesserocr" in engines:
        measured.append(raw_tesserocr(rasters))
    return max(measured, key=lambda found: found.pages_per_minute), measured


def ocrmypdf(pdf: Path, workdir: Path) -> Throughput | None:
    if shutil.which("ocrmypdf") is None:
        return None
    started = time.monotonic()
    subprocess.run(
        [
            "ocrmypdf",
            "--force-ocr",
            "-l",
            LANGUAGES,
            "--jobs",
            str(os.cpu_count() or 1),
            "--output-type",
            "pdf",
            "--quiet",
            str(pdf),
            str(workdir / "ocrmypdf.pdf"),
        ],
        check=True,
        capture_output=True,
    )
    with pymupdf.open(pdf) as doc:
        pages = doc.page_count
    return Throughput(
        f"ocrmypdf --force-ocr -j {os.cpu_count() or 1}", pages, time.monotonic() - started
    )


def _figure(measured: Throughput, baseline: Throughput, note: str = "", goal: str = "") -> Figure:
    return Figure(
        BENCHMARK,
        f"{measured.name}, {measured.pages} pages ({measured.seconds:.1f} s)",
        measured.pages_per_minute,
        "pages/min",
        baseline.name if measured is not baseline else "",
        baseline.pages_per_minute if measured is not baseline else None,
        note,
        goal,
    )


def run(
    page_counts: list[int], declared_too: bool = True, warm_up: bool = True
) -> tuple[list[Figure], dict[int, StackRun]]:
    """The figures, and each scanned document's run through the stack without a declared
    language (the born-digital benchmark compares itself with them)."""
    figures: list[Figure] = []
    stack_runs: dict[int, StackRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if warm_up:
            run_job(make_pdf(workdir / "warm.pdf", scanned=os.cpu_count() or 1), "bench-ocr")
        for pages in page_counts:
            pdf = make_pdf(workdir / f"scan-{pages}.pdf", scanned=pages)
            best, engines = best_raw_engine(rasters(pdf), workdir)
            for engine in engines:
                note = "baseline: best raw engine" if engine is best else "raw engine"
                figures.append(_figure(engine, engine, note))
            variants = [("language undeclared (probe)", {})]
            if declared_too:
                variants.append(("language declared (es)", {"source_language": "es"}))
            headline: Throughput | None = None
            for label, extra in variants:
                stack = run_job(pdf, "bench-ocr", **extra)
                if not extra:
                    stack_runs[pages] = stack
                through = Throughput(
                    f"Pagewise, {label}, upload to ocr_completed", stack.pages, stack.ocr_seconds
                )
                figures.append(
                    _figure(
                        through,
                        best,
                        f"upload to completed: {stack.total_seconds:.1f} s",
                        "" if headline else RAW_ENGINE_GOALS.get(pages, ""),
                    )
                )
                headline = headline or through
            other = ocrmypdf(pdf, workdir)
            if other is None or headline is None:
                figures.append(
                    Figure(BENCHMARK, f"ocrmypdf, {pages} pages", 0, "", note="not installed")
                )
                continue
            figures.append(_figure(other, best))
            figures.append(
                Figure(
                    BENCHMARK,
                    f"Pagewise (undeclared) vs ocrmypdf, {pages} pages",
                    headline.pages_per_minute,
                    "pages/min",
                    other.name,
                    other.pages_per_minute,
                    "same PDF, same run",
                    OCRMYPDF_GOAL if pages in RAW_ENGINE_GOALS else "",
                )
            )
    return figures, stack_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--smoke", action="store_true", help="one 1-page document: does it run?")
    args = parser.parse_args()
    pages = [1] if args.smoke else args.pages
    print(table(run(pages, warm_up=not args.smoke)[0]))


if __name__ == "__main__":
    main()
