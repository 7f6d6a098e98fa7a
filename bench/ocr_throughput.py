"""OCR throughput: pages/minute of Pagewise's OCR stage through the deployed local stack
(upload to `ocr_completed`) on a scanned PDF, next to, on the same pages in the same run:

(a) raw `tesseract` with OMP_THREAD_LIMIT=1, one process per core, on the same rasterised
    pages (PNM at 300 dpi): the practical ceiling of this machine, and the baseline;
(b) `ocrmypdf --force-ocr` on the same PDF (installed by scripts/install-bench-deps.sh): the
    tool users would otherwise pick.

Needs the local stack (`make up`). Usage: python bench/ocr_throughput.py [--pages 8 32] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from benchkit import Figure, StackRun, make_pdf, run_job, table

BENCHMARK = "OCR throughput"
LANGUAGES = "spa+eng"


@dataclass(frozen=True)
class Throughput:
    name: str
    pages: int
    seconds: float

    @property
    def pages_per_minute(self) -> float:
        return self.pages / self.seconds * 60


def raw_tesseract(pdf: Path, workdir: Path) -> Throughput:
    images = []
    with pymupdf.open(pdf) as doc:
        for index, page in enumerate(doc):
            image = workdir / f"page-{index + 1}.pnm"
            image.write_bytes(page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY).tobytes("pnm"))
            images.append(image)
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
        f"raw tesseract, {os.cpu_count()} processes", len(images), time.monotonic() - started
    )


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
    return Throughput("ocrmypdf --force-ocr", pages, time.monotonic() - started)


def _figure(measured: Throughput, baseline: Throughput, note: str = "") -> Figure:
    return Figure(
        BENCHMARK,
        f"{measured.name}, {measured.pages} pages ({measured.seconds:.1f} s)",
        measured.pages_per_minute,
        "pages/min",
        baseline.name if measured is not baseline else "",
        baseline.pages_per_minute if measured is not baseline else None,
        note,
    )


def run(page_counts: list[int]) -> tuple[list[Figure], dict[int, StackRun]]:
    """The figures, and each scanned document's run through the stack (the born-digital
    benchmark compares itself with them)."""
    figures: list[Figure] = []
    stack_runs: dict[int, StackRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for pages in page_counts:
            pdf = make_pdf(workdir / f"scan-{pages}.pdf", scanned=pages)
            baseline = raw_tesseract(pdf, workdir)
            figures.append(_figure(baseline, baseline, "baseline"))
            stack = run_job(pdf, "bench-ocr", source_language="es")
            stack_runs[pages] = stack
            through = Throughput(
                "Pagewise, upload to ocr_completed", stack.pages, stack.ocr_seconds
            )
            figures.append(
                _figure(through, baseline, f"upload to completed: {stack.total_seconds:.1f} s")
            )
            other = ocrmypdf(pdf, workdir)
            if other is not None:
                figures.append(_figure(other, baseline))
            else:
                figures.append(
                    Figure(BENCHMARK, f"ocrmypdf, {pages} pages", 0, "", note="not installed")
                )
    return figures, stack_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--smoke", action="store_true", help="one 1-page document: does it run?")
    args = parser.parse_args()
    print(table(run([1] if args.smoke else args.pages)[0]))


if __name__ == "__main__":
    main()
