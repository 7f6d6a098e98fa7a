"""OCR engine, side by side on the same pages: Pagewise's engine (tesserocr in process, one
warm PyTessBaseAPI, the OCR layer's traineddata) against Debian's `tesseract` CLI (one process
per page, the host's packs: the same Debian files), both one thread (OMP_THREAD_LIMIT=1),
one page after another, on the same 300-dpi greyscale rasters of a generated scan (benchkit's
JPEG scans of known Spanish text), with the same languages (spa+eng) and page segmentation
(--psm 3). Seconds per page (the CLI's include its process start and model load, which is
what one process per page costs) and CER against the known text (whitespace normalised).
Also the unzipped sizes of what `make aws-check` built (.aws-sam-aws/), when it is there.

No local stack needed. Usage: python bench/ocr_engine.py [--pages 8] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymupdf
from benchkit import ROOT, _page_text, make_pdf

sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT))
from pagewise.documents.ocr.engine import ENGINE_NAME, shared_engine
from pagewise.documents.ocr.raster import Raster

from tests.unit.documents.documents_inputs import char_error_rate

LANGUAGES = "spa+eng"
DPI = 300


def truth(number: int) -> str:
    """The text benchkit's scanned page ``number`` shows (laid out as it lays it out)."""
    with pymupdf.open() as source:
        page = source.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), _page_text(number), fontsize=11)
        return str(page.get_text())


def rasters(pdf: Path) -> list[Raster]:
    out = []
    with pymupdf.open(pdf) as doc:
        for page in doc:
            pix = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY)
            out.append(Raster(pix.samples_mv.tobytes(), pix.width, pix.height))
    return out


def in_process(pages: list[Raster]) -> tuple[list[float], list[str]]:
    engine = shared_engine()
    engine.recognise(pages[0], languages=LANGUAGES, dpi=DPI, timeout=None)  # warm, as in Lambda
    seconds, texts = [], []
    for raster in pages:
        started = time.perf_counter()
        texts.append(engine.recognise(raster, languages=LANGUAGES, dpi=DPI, timeout=None).text)
        seconds.append(time.perf_counter() - started)
    return seconds, texts


def debian_cli(pages: list[Raster], workdir: Path) -> tuple[list[float], list[str]]:
    if shutil.which("tesseract") is None:
        raise SystemExit("Debian's tesseract is not installed (make system-deps)")
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    seconds, texts = [], []
    for index, raster in enumerate(pages):
        image = workdir / f"page-{index}.pnm"
        image.write_bytes(b"P5\n%d %d\n255\n" % (raster.width, raster.height) + raster.samples)
        command = ["tesseract", str(image), "stdout", "-l", LANGUAGES, "--psm", "3"]
        command += ["--dpi", str(DPI)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=environment, check=True)
        seconds.append(time.perf_counter() - started)
        texts.append(done.stdout.decode())
    return seconds, texts


def _megabytes(root: Path) -> float:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    args = parser.parse_args()
    cli_version = subprocess.run(
        ["tesseract", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        pages = rasters(make_pdf(workdir / "scan.pdf", scanned=args.pages))
        expected = [truth(number) for number in range(1, args.pages + 1)]
        rows = []
        for name, run in (
            (f"{ENGINE_NAME}, in process, warm", lambda: in_process(pages)),
            (f"Debian {cli_version} CLI, a process a page", lambda: debian_cli(pages, workdir)),
        ):
            best: tuple[list[float], list[str]] | None = None
            for _ in range(args.repeat):
                seconds, texts = run()
                if best is None or sum(seconds) < sum(best[0]):
                    best = (seconds, texts)
            assert best is not None
            seconds, texts = best
            rates = [char_error_rate(e, t) for e, t in zip(expected, texts, strict=True)]
            rows.append((name, sum(seconds), statistics.mean(seconds), statistics.mean(rates)))
    print(
        f"{args.pages} scanned pages, 300 dpi grey, {LANGUAGES}, one thread, best of {args.repeat}"
    )
    print("| engine | total s | s / page | CER |")
    print("|---|---:|---:|---:|")
    for name, total, per_page, rate in rows:
        print(f"| {name} | {total:.1f} | {per_page:.2f} | {rate:.3%} |")
    build = ROOT / ".aws-sam-aws" / "build"
    if build.is_dir():
        print("\nUnzipped sizes of the AWS build (.aws-sam-aws/build, from make aws-check):")
        for layer in ("CommonLayer", "DocumentsLayer", "OcrLayer"):
            if (build / layer).is_dir():
                print(f"- {layer}: {_megabytes(build / layer):.1f} MB")


if __name__ == "__main__":
    main()
