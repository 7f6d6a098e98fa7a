"""OCR throughput: pages/minute of Pagewise's OCR stage through the deployed local stack
(upload to `ocr_completed`) on a scanned PDF, next to, on the same pages in the same run:

(a) raw `tesseract` with OMP_THREAD_LIMIT=1, one process per core, on the same rasterised
    pages (PNM at 300 dpi): the practical ceiling of this machine;
(b) `ocrmypdf --force-ocr` on the same PDF, when installed: the tool users would otherwise
    pick.

Needs the local stack (`make up`). Usage: python bench/ocr_throughput.py [--pages 8 32] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from pagewise_client.api import PagewiseClient
from pagewise_client.local import local_token, stack_outputs

ROOT = Path(__file__).resolve().parents[1]
PARAGRAPH = (
    "CLÁUSULA {n}. El arrendatario se obliga a pagar la renta pactada dentro de los cinco "
    "primeros días de cada mes, mediante transferencia a la cuenta designada por el "
    "arrendador. El retraso en el pago devengará el interés legal del dinero incrementado en "
    "dos puntos, sin perjuicio de la facultad del arrendador de resolver el contrato. "
)


@dataclass(frozen=True)
class Throughput:
    name: str
    pages: int
    seconds: float

    @property
    def pages_per_minute(self) -> float:
        return self.pages / self.seconds * 60


def scanned_pdf(path: Path, pages: int) -> Path:
    """A PDF of image-only pages (300 dpi greyscale scans of a page full of text)."""
    with pymupdf.open() as out:
        for number in range(1, pages + 1):
            with pymupdf.open() as source:
                page = source.new_page(width=595, height=842)
                text = "".join(PARAGRAPH.format(n=number * 10 + k) for k in range(8))
                page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), text, fontsize=11)
                pixmap = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
            scan = out.new_page(width=595, height=842)
            # JPEG, as scanners write them (a PNG of a 300-dpi page is several MB).
            scan.insert_image(scan.rect, stream=pixmap.tobytes("jpeg", jpg_quality=80))
        out.save(path)
    return path


def through_the_stack(pdf: Path) -> Throughput:
    client = PagewiseClient(stack_outputs()["ApiUrl"], local_token(f"bench-{uuid.uuid4().hex[:6]}"))
    created = client.create_job(pdf, source_language="es")
    started = time.monotonic()
    client.upload(created["upload"], pdf)
    reached: dict[str, float] = {}

    def note(status: dict[str, object]) -> None:
        details = status["details"]
        assert isinstance(details, dict)
        reached.setdefault(str(details["processing_status"]), time.monotonic() - started)

    final = client.wait(created["job_id"], timeout_seconds=1800, on_change=note, interval=0.25)
    details = final["details"]
    if details["processing_status"] != "completed":
        raise SystemExit(
            f"the bench job failed: {details['error_code']} {details['error_message']}"
        )
    # The moment the last page's OCR was recorded; translation starts right after.
    ocr_done = reached.get("ocr_completed") or reached["translation_started"]
    return Throughput("Pagewise, upload to ocr_completed", int(details["total_pages"]), ocr_done)


def raw_tesseract(pdf: Path, workdir: Path, languages: str = "spa+eng") -> Throughput:
    images = []
    with pymupdf.open(pdf) as doc:
        for index, page in enumerate(doc):
            image = workdir / f"page-{index + 1}.pnm"
            image.write_bytes(page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY).tobytes("pnm"))
            images.append(image)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def ocr(image: Path) -> None:
        subprocess.run(
            ["tesseract", str(image), "stdout", "-l", languages, "--dpi", "300"],
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
            "spa+eng",
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


def table(rows: list[tuple[Throughput, Throughput]]) -> str:
    lines = [
        "| measurement | pages | seconds | pages/min | ratio to raw tesseract |",
        "|---|---:|---:|---:|---:|",
    ]
    for measured, baseline in rows:
        ratio = measured.pages_per_minute / baseline.pages_per_minute
        lines.append(
            f"| {measured.name} | {measured.pages} | {measured.seconds:.1f} | "
            f"{measured.pages_per_minute:.1f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def run(page_counts: list[int]) -> str:
    rows: list[tuple[Throughput, Throughput]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for pages in page_counts:
            pdf = scanned_pdf(workdir / f"scan-{pages}.pdf", pages)
            baseline = raw_tesseract(pdf, workdir)
            rows.append((baseline, baseline))
            rows.append((through_the_stack(pdf), baseline))
            other = ocrmypdf(pdf, workdir)
            if other is not None:
                rows.append((other, baseline))
    return table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--smoke", action="store_true", help="one 1-page document: does it run?")
    args = parser.parse_args()
    print(run([1] if args.smoke else args.pages))


if __name__ == "__main__":
    sys.exit(main())
