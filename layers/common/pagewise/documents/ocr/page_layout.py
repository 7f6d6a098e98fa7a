"""The layout of an OCR'd page: the engine's paragraphs, lines and words in PDF points.

The engine sees a raster that may be turned (OSD) and levelled (deskew); each box is mapped
back through the raster's own render matrix, so the layout is in the coordinates of the page
as PyMuPDF shows it (``page.rect``), whatever turn was applied to read it.
"""

from __future__ import annotations

import pymupdf

from pagewise.documents.layout import Block, Box, Line, PageLayout, Word
from pagewise.documents.ocr.engine import Box as PixelBox
from pagewise.documents.ocr.engine import Recognition
from pagewise.documents.ocr.raster import Raster


def ocr_layout(
    recognition: Recognition, raster: Raster, page_number: int, page_rect: pymupdf.Rect
) -> PageLayout:
    """One block per paragraph (``b1``, ``b2``, ... in the engine's reading order)."""

    def box(pixels: PixelBox) -> Box:
        rect = raster.page_box(*pixels) & page_rect
        return Box(
            x0=round(rect.x0, 2), y0=round(rect.y0, 2), x1=round(rect.x1, 2), y1=round(rect.y1, 2)
        )

    blocks = [
        Block(
            id=f"b{number}",
            box=box(paragraph.box),
            lines=[
                Line(
                    box=box(line.box),
                    words=[
                        Word(
                            text=word.text,
                            box=box(word.box),
                            confidence=round(word.confidence, 2) if word.confidence >= 0 else None,
                        )
                        for word in line.words
                    ],
                )
                for line in paragraph.lines
            ],
        )
        for number, paragraph in enumerate(recognition.paragraphs, start=1)
    ]
    return PageLayout(
        page=page_number,
        width=round(page_rect.width, 2),
        height=round(page_rect.height, 2),
        source="ocr",
        blocks=blocks,
    )
