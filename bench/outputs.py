"""Render seconds per page of each output, beside the report PDF, and the overlay's overflow.

No stack: the render functions run in this process on the same pages, one variant after the
other, each timed with its layouts and block translations already made (as Render gets them):

- born-digital: N pages of benchkit's Spanish clauses with a text layer (layouts from the PDF);
- scanned: M 300-dpi JPEG scans of the same clauses, their layouts read by the OCR engine
  (tests/support/ocr_layout.py, as OcrPage stores them; not timed);
- the sample contract (samples/contrato-2-paginas.pdf: one page of each kind).

Block translations are the Apertium gist of each block (English of about the source's
length; not timed). The report gets each page's whole gist as legal and plain English.

Usage: python bench/outputs.py [--digital 20] [--scanned 6] [--smoke]
       python bench/outputs.py --pictures docs/images   (the pictures in docs/outputs.md)
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

from benchkit import make_pdf  # noqa: E402
from pagewise.documents.block_translation import translate_blocks_offline  # noqa: E402
from pagewise.documents.layout import PageLayout  # noqa: E402
from pagewise.documents.layout_from_pdf import layout_from_pdf  # noqa: E402
from pagewise.documents.outputs.overlay import OverlayPage, render_overlay  # noqa: E402
from pagewise.documents.outputs.previews import page_previews  # noqa: E402
from pagewise.documents.outputs.searchable import render_searchable  # noqa: E402
from pagewise.documents.outputs.word import render_docx  # noqa: E402
from pagewise.documents.render import DocumentMeta, RenderPage, render_pdf  # noqa: E402

from tests.support.ocr_layout import ocr_layout  # noqa: E402

SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"


def _timed(run: Callable[[], object], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def measure(name: str, pdf: bytes, layouts: list[PageLayout]) -> dict[str, float | int | str]:
    translations = [translate_blocks_offline(layout, "es") for layout in layouts]
    specs = [
        OverlayPage(page=layout.page, layout=layout, translations=t.blocks, label=t.note)
        for layout, t in zip(layouts, translations, strict=True)
    ]
    pages = [
        RenderPage(
            page=layout.page,
            source=layout.source,
            language="es",
            source_text=layout.text,
            legal_english="\n\n".join(t.blocks.values()),
            plain_english="\n\n".join(t.blocks.values()),
            translated=True,
        )
        for layout, t in zip(layouts, translations, strict=True)
    ]
    meta = DocumentMeta(document_name=name, generated_at=datetime.now(UTC), summary="A lease.")
    overlay = render_overlay(pdf, specs)
    seconds = {
        "report": _timed(lambda: render_pdf(meta, pages)),
        "overlay": _timed(lambda: render_overlay(pdf, specs)),
        "searchable": _timed(lambda: render_searchable(pdf, layouts)),
        "docx": _timed(lambda: render_docx(meta, pages)),
        "previews": _timed(lambda: (page_previews(pdf), page_previews(overlay.pdf))),
    }
    row: dict[str, float | int | str] = {"document": name, "pages": len(layouts)}
    for variant, value in seconds.items():
        row[variant] = value / len(layouts)
    row["blocks"] = sum(len(layout.blocks) for layout in layouts)
    row["overflowed"] = sum(overlay.overflowed.values())
    row["appendix_pages"] = overlay.appendix_pages
    return row


def pictures(folder: Path) -> list[Path]:
    """The sample's pages, source beside overlay (Apertium gist offline), as PNGs."""
    from PIL import Image

    sample = SAMPLE.read_bytes()
    layouts = [layout_from_pdf(sample, 1), ocr_layout(sample, 2)]
    specs = []
    for layout in layouts:
        gist = translate_blocks_offline(layout, "es")
        specs.append(
            OverlayPage(page=layout.page, layout=layout, translations=gist.blocks, label=gist.note)
        )
    overlay = render_overlay(sample, specs).pdf
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, (source, translated) in enumerate(
        zip(page_previews(sample), page_previews(overlay), strict=True), start=1
    ):
        left = Image.open(io.BytesIO(source))
        right = Image.open(io.BytesIO(translated))
        pair = Image.new("RGB", (left.width + right.width + 12, left.height), "#888888")
        pair.paste(left, (0, 0))
        pair.paste(right, (left.width + 12, 0))
        path = folder / f"overlay-page-{number}.png"
        pair.save(path, optimize=True)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--digital", type=int, default=20)
    parser.add_argument("--scanned", type=int, default=6)
    parser.add_argument("--smoke", action="store_true", help="2 born-digital pages, 1 scanned")
    parser.add_argument("--pictures", type=Path, help="write the sample's page pairs here, only")
    args = parser.parse_args()
    if args.pictures:
        for path in pictures(args.pictures):
            print(path)
        return
    digital, scanned = (2, 1) if args.smoke else (args.digital, args.scanned)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        born = make_pdf(Path(tmp) / "digital.pdf", digital=digital).read_bytes()
        rows.append(
            measure(
                f"born-digital, {digital} pages",
                born,
                [layout_from_pdf(born, n) for n in range(1, digital + 1)],
            )
        )
        scan = make_pdf(Path(tmp) / "scan.pdf", scanned=scanned).read_bytes()
        rows.append(
            measure(
                f"scanned, {scanned} pages",
                scan,
                [ocr_layout(scan, n) for n in range(1, scanned + 1)],
            )
        )
    sample = SAMPLE.read_bytes()
    rows.append(
        measure(
            "samples/contrato-2-paginas.pdf",
            sample,
            [layout_from_pdf(sample, 1), ocr_layout(sample, 2)],
        )
    )
    variants = ("report", "overlay", "searchable", "docx", "previews")
    print(
        "| document | "
        + " | ".join(f"{v} s/page (x report)" for v in variants)
        + " | blocks | overflowed | appendix pages |"
    )
    print("|---|" + "---:|" * (len(variants) + 3))
    for row in rows:
        report = float(row["report"])
        cells = [f"{float(row[v]):.3f} ({float(row[v]) / report:.2f})" for v in variants]
        print(
            f"| {row['document']} | "
            + " | ".join(cells)
            + f" | {row['blocks']} | {row['overflowed']} | {row['appendix_pages']} |"
        )


if __name__ == "__main__":
    main()
