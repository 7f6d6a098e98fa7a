"""Born-digital pages: a PDF whose pages all have a text layer (so OCR is skipped), from the
presigned upload to `completed` with the offline provider (the local default): pages/second,
next to a scanned document's pages/second through the same stack in the same run.

Needs the local stack (`make up`).
Usage: python bench/born_digital.py [--pages 100] [--scanned-pages 8] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchkit import Figure, StackRun, make_pdf, run_job, table

BENCHMARK = "Born-digital pages"


def run(pages: int, scanned: StackRun | None, scanned_pages: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_pdf(Path(tmp) / f"digital-{pages}.pdf", digital=pages)
        if scanned is None:
            scan = make_pdf(Path(tmp) / f"scan-{scanned_pages}.pdf", scanned=scanned_pages)
            scanned = run_job(scan, "bench-scan", source_language="es")
        digital = run_job(pdf, "bench-digital", source_language="es")
    # Every page must have skipped OCR, or this measures the wrong thing.
    sources = {str(page["source"]) for page in digital.page_results()}
    if sources != {"text_layer"}:
        raise SystemExit(f"born-digital pages were not read from their text layer: {sources}")
    digital_rate = digital.pages / digital.total_seconds
    scanned_rate = scanned.pages / scanned.total_seconds
    return [
        Figure(
            BENCHMARK,
            f"{digital.pages}-page born-digital PDF, upload to completed "
            f"({digital.total_seconds:.1f} s)",
            digital_rate,
            "pages/s",
            f"{scanned.pages}-page scanned PDF, upload to completed "
            f"({scanned.total_seconds:.1f} s)",
            scanned_rate,
            f"OCR stage of the born-digital PDF: {digital.ocr_seconds:.1f} s",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--scanned-pages", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="3 born-digital pages, 1 scanned")
    args = parser.parse_args()
    pages, scanned_pages = (3, 1) if args.smoke else (args.pages, args.scanned_pages)
    print(table(run(pages, None, scanned_pages)))


if __name__ == "__main__":
    main()
