"""A page's layout: blocks of lines of words, each with its box on the page.

One model for both kinds of page, so that what is built on the layout (the overlay PDF, the
searchable original, the per-block translation) never asks where a page's words came from:

- OCR'd pages: the OCR engine's blocks, lines and words, with its word confidences;
- pages with a usable text layer: PyMuPDF's blocks, lines and words.

Coordinates are PDF points (1/72 inch) on the page as PyMuPDF shows it (``page.rect``: the
rotation applied, origin at the top-left, y growing downwards), whatever the raster's dpi or
the turn the OCR applied to read it. Between states a layout travels as a pointer (its S3 key),
never inline: a dense page's words outweigh Step Functions' 256 KB.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Box(BaseModel):
    """A rectangle in PDF points, top-left origin: ``x0 <= x1`` and ``y0 <= y1``."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def iou(self, other: Box) -> float:
        """Intersection over union, 0.0 for boxes that do not touch."""
        width = min(self.x1, other.x1) - max(self.x0, other.x0)
        height = min(self.y1, other.y1) - max(self.y0, other.y0)
        if width <= 0 or height <= 0:
            return 0.0
        overlap = width * height
        return overlap / (self.area + other.area - overlap)


class Word(BaseModel):
    text: str
    box: Box
    # The OCR engine's confidence, 0-100; None for words from a text layer.
    confidence: float | None = None


class Line(BaseModel):
    box: Box
    words: list[Word] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


class Block(BaseModel):
    """A paragraph-sized block of text: the unit the overlay translates and fits."""

    # Stable within the page ("b1", "b2", ... in reading order): the per-block translation
    # sends these ids to the LLM and checks that the same ids come back.
    id: str
    box: Box
    lines: list[Line] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class PageLayout(BaseModel):
    page: int  # 1-based, as everywhere in Pagewise
    width: float  # points, page.rect.width
    height: float  # points, page.rect.height
    source: Literal["ocr", "text_layer"]
    blocks: list[Block] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)
