"""Test helper: the PageLayout of a scanned page, from Debian's tesseract CLI (TSV output).

Only for tests, until the OCR engine stores each OCR'd page's layout itself: paragraphs are
the blocks, with their lines and words, boxes converted from pixels to PDF points.
"""

from __future__ import annotations

import csv
import io
import subprocess

import pymupdf
from pagewise.documents.layout import Block, Box, Line, PageLayout, Word


def _box(row: dict[str, str], scale: float) -> Box:
    left, top = int(row["left"]) * scale, int(row["top"]) * scale
    return Box(
        x0=left, y0=top, x1=left + int(row["width"]) * scale, y1=top + int(row["height"]) * scale
    )


def ocr_layout(
    pdf: bytes, page_number: int, *, languages: str = "spa", dpi: int = 300
) -> PageLayout:
    with pymupdf.open(stream=pdf) as doc:
        page = doc[page_number - 1]
        pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        width, height = page.rect.width, page.rect.height
    proc = subprocess.run(
        ["tesseract", "-", "-", "-l", languages, "--psm", "3", "--dpi", str(dpi), "tsv"],
        input=pixmap.tobytes("pnm"),
        capture_output=True,
        check=True,
        env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
    )
    scale = 72 / dpi
    blocks: dict[tuple[int, int], Block] = {}
    lines: dict[tuple[int, int, int], Line] = {}
    reader = csv.DictReader(
        io.StringIO(proc.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    for row in reader:
        level = int(row["level"])
        block_key = (int(row["block_num"]), int(row["par_num"]))
        line_key = (*block_key, int(row["line_num"]))
        if level == 3:
            blocks[block_key] = Block(id=f"b{len(blocks) + 1}", box=_box(row, scale))
        elif level == 4:
            lines[line_key] = Line(box=_box(row, scale))
            blocks[block_key].lines.append(lines[line_key])
        elif level == 5 and row["text"].strip():
            lines[line_key].words.append(
                Word(text=row["text"], box=_box(row, scale), confidence=float(row["conf"]))
            )
    kept = [block for block in blocks.values() if block.text.strip()]
    for index, block in enumerate(kept, start=1):
        block.id = f"b{index}"
        block.lines = [line for line in block.lines if line.words]
    return PageLayout(page=page_number, width=width, height=height, source="ocr", blocks=kept)
