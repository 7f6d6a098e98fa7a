"""The overlay PDF: every source page at its own size, the English set where the source text was.

- Pages with a text layer: the source text of each translated block is removed by redaction of
  text only (images, vector lines, stamps and signatures stay), then the translation is set in
  the block's box.
- OCR'd pages: each translated block's box is painted with the page's local background colour
  (sampled from the raster in a thin ring around the box), then the translation is set in it.
  Everything outside the boxes (figures, stamps, signatures, handwriting, rules) stays as
  scanned.
- Fit: the largest font size from the source's own size down to ``min_font_size`` at which
  the text fits the box; what does not fit even at the floor is not dropped: the box ends with
  a marker ``[n]`` and the rest continues in note ``n`` at the page's foot, below its lowest
  block, or, when the foot has no room, on an appendix page at the end of the document.
- A page without a layout (no text, or an OCR'd page whose layout was not stored) is copied
  unchanged; a label at the top says so, as it says when the text is a machine gist.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymupdf

from pagewise.documents.layout import Block, Box, PageLayout
from pagewise.documents.outputs.fonts import show_text, text_font, text_width
from pagewise.observability import tracer

TEXT_COLOUR = (0.05, 0.05, 0.25)
LABEL_COLOUR = (0.6, 0.1, 0.0)
NOTES_HEADING = "Notes (translation continued):"
NO_LAYOUT_LABEL = "No text layout for this page: its translation is in the report PDF."
# Points around a box sampled for its background; the raster's resolution for sampling.
_RING = 3.0
_SAMPLE_DPI = 50
_SIZE_STEP = 0.25
# The text may grow this much over the source's size to fill its box (English is often shorter).
_GROW = 1.25
# Line spacing, per point of size: the normal one, and the loosest used to fill a box.
_LEADING = 1.2
_MAX_LEADING = 1.6
# Redaction of text only: images and vector graphics (lines, stamps, signatures) stay, and
# nothing is painted where the text was (False: no fill; None would mean white).
_KEEP_IMAGES: int = getattr(pymupdf, "PDF_REDACT_IMAGE_NONE")  # noqa: B009 (untyped)
_KEEP_LINE_ART: int = getattr(pymupdf, "PDF_REDACT_LINE_ART_NONE")  # noqa: B009
_REMOVE_TEXT: int = getattr(pymupdf, "PDF_REDACT_TEXT_REMOVE")  # noqa: B009
_NO_FILL: Any = False


@dataclass(frozen=True, kw_only=True)
class OverlayPage:
    """One source page: its layout, the English of each block by id, and a label shown at
    the top of the page (e.g. "Apertium gist ..., not a legal translation"), if any."""

    page: int
    layout: PageLayout | None
    translations: Mapping[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class OverlayResult:
    pdf: bytes
    # Source page -> number of its blocks whose translation continues in a note.
    overflowed: dict[int, int]
    appendix_pages: int


def _rect(box: Box) -> pymupdf.Rect:
    return pymupdf.Rect(box.x0, box.y0, box.x1, box.y1)


def _grow(rect: pymupdf.Rect, by: float) -> pymupdf.Rect:
    """``rect`` moved out by ``by`` points on every side (in by a negative ``by``)."""
    return pymupdf.Rect(rect.x0 - by, rect.y0 - by, rect.x1 + by, rect.y1 + by)


def _source_font_size(block: Block) -> float:
    """The source's font size, estimated from its line heights (about 1.2 x the size)."""
    heights = [line.box.height for line in block.lines if line.box.height > 0]
    return statistics.median(heights) / 1.15 if heights else block.box.height


# One typeset line: its words, and whether it ends a paragraph (then it is not justified).
_Line = tuple[list[str], bool]


@dataclass
class _Fitted:
    writer: pymupdf.TextWriter
    # When the text does not fit even at the floor size: the part that fits (set with its
    # marker by _Typesetter.mark) and the rest, for a note; both "" when all of it fits.
    head: str = ""
    rest: str = ""


class _Typesetter:
    """Sets a block's text in its box: lines broken at spaces, justified (a paragraph's last
    line flush left), spread down to fill the box's height; the largest size from the
    source's own (times ``_GROW``) down to ``min_size`` at which it fits."""

    def __init__(self, font: pymupdf.Font, min_size: float, max_size: float) -> None:
        self.font = font
        self.min_size = min_size
        self.max_size = max_size
        self._body = font.ascender - font.descender  # a line's own height, per point of size
        self._unit_widths: dict[str, float] = {}

    def _width(self, text: str, size: float) -> float:
        # Widths scale with the size: measured once per word at size 1, then multiplied (the
        # bisection breaks the same words at a dozen sizes).
        unit = self._unit_widths.get(text)
        if unit is None:
            unit = self._unit_widths[text] = float(text_width(self.font, text))
        return unit * size

    def _break(self, text: str, size: float, width: float) -> list[_Line]:
        lines: list[_Line] = []
        space = self._width(" ", size)
        for paragraph in text.split("\n"):
            current: list[str] = []
            used = 0.0
            for word in paragraph.split():
                while self._width(word, size) > width and len(word) > 1:
                    # A word wider than the box is cut where it must be.
                    cut = next(
                        (
                            n
                            for n in range(len(word) - 1, 0, -1)
                            if self._width(word[:n], size) <= width
                        ),
                        1,
                    )
                    if current:
                        lines.append((current, False))
                        current, used = [], 0.0
                    lines.append(([word[:cut]], False))
                    word = word[cut:]
                length = self._width(word, size)
                if current and used + space + length > width:
                    lines.append((current, False))
                    current, used = [], 0.0
                used = used + space + length if current else length
                current.append(word)
            lines.append((current, True))
        return lines

    def _capacity(self, rect: pymupdf.Rect, size: float) -> int:
        """How many lines of ``size`` fit the box's height at the normal leading."""
        if rect.height < size * self._body:
            return 0
        return 1 + int((rect.height - size * self._body) / (size * _LEADING))

    def _fits(self, rect: pymupdf.Rect, text: str, size: float) -> bool:
        return len(self._break(text, size, rect.width)) <= self._capacity(rect, size)

    def _set(
        self, page: pymupdf.Page, rect: pymupdf.Rect, lines: list[_Line], size: float
    ) -> pymupdf.TextWriter:
        writer = pymupdf.TextWriter(page.rect, color=TEXT_COLOUR)
        step = size * _LEADING
        if len(lines) > 1:  # spread the lines down the box, up to a loose leading
            room = (rect.height - size * self._body) / (len(lines) - 1)
            step = max(step, min(room, size * _MAX_LEADING))
        y = rect.y0 + size * self.font.ascender
        space = self._width(" ", size)
        for words, last in lines:
            widths = [self._width(word, size) for word in words]
            gap = space
            if not last and len(words) > 1:
                gap = (rect.width - sum(widths)) / (len(words) - 1)
            x = rect.x0
            for word, width in zip(words, widths, strict=True):
                show_text(writer, x, y, word, self.font, size)
                x += width + gap
            y += step
        return writer

    def fit(self, page: pymupdf.Page, rect: pymupdf.Rect, text: str, start: float) -> _Fitted:
        high = max(self.min_size, min(self.max_size, start))
        low = self.min_size
        if self._fits(rect, text, high):
            low = high
        elif not self._fits(rect, text, low):
            return self._overflow(page, rect, text)
        while high - low > _SIZE_STEP:  # bisect: low fits, high does not
            middle = (low + high) / 2
            if self._fits(rect, text, middle):
                low = middle
            else:
                high = middle
        return _Fitted(self._set(page, rect, self._break(text, low, rect.width), low))

    def _overflow(self, page: pymupdf.Page, rect: pymupdf.Rect, text: str) -> _Fitted:
        """At the floor size: as many lines as fit, the last ending with a marker placeholder
        (numbered by :meth:`mark`); the rest goes to a note."""
        size = self.min_size
        lines = self._break(text, size, rect.width)
        kept = lines[: self._capacity(rect, size)]
        words = [word for line, _ in kept for word in line]
        while words and not self._fits(rect, " ".join(words) + " [99]", size):
            words.pop()
        # The rest, from the first word not kept, with its paragraph breaks.
        rest_lines = lines[len(kept) :]
        dropped = [word for line, _ in kept for word in line][len(words) :]
        rest = " ".join(dropped)
        for line, last in rest_lines:
            rest += (" " if rest and not rest.endswith("\n") else "") + " ".join(line)
            rest += "\n" if last else ""
        return _Fitted(pymupdf.TextWriter(page.rect), " ".join(words), rest.strip())

    def mark(self, page: pymupdf.Page, rect: pymupdf.Rect, fitted: _Fitted, number: int) -> str:
        """Set the part that fits with the marker ``[number]``; returns the rest."""
        head = f"{fitted.head} [{number}]".strip()
        fitted.writer = self._set(
            page, rect, self._break(head, self.min_size, rect.width), self.min_size
        )
        return fitted.rest


def _background(pixmap: pymupdf.Pixmap, rect: pymupdf.Rect, zoom: float) -> tuple[float, ...]:
    """The median colour of the raster in a thin ring around ``rect``: the paper there."""
    n = pixmap.n
    samples = pixmap.samples_mv
    stride = pixmap.stride
    outer = _grow(rect, _RING) * zoom
    inner = rect * zoom
    x0, y0 = max(0, int(outer.x0)), max(0, int(outer.y0))
    x1, y1 = min(pixmap.width, int(outer.x1) + 1), min(pixmap.height, int(outer.y1) + 1)
    channels: list[list[int]] = [[] for _ in range(n)]
    # The ring only: whole rows above and below the box, the columns beside it in between.
    left, right = max(x0, int(inner.x0)), min(x1, int(inner.x1) + 1)
    for y in range(y0, y1):
        beside = inner.y0 <= y < inner.y1 - 1
        spans = ((x0, left), (right, x1)) if beside else ((x0, x1),)
        for start, end in spans:
            row = samples[y * stride + start * n : y * stride + end * n]
            for channel in range(n):
                channels[channel].extend(row[channel::n])
    if not channels[0]:
        return (1.0, 1.0, 1.0)
    colour = tuple(statistics.median(values) / 255 for values in channels)
    return colour * 3 if n == 1 else colour


def _label(page: pymupdf.Page, text: str, font: pymupdf.Font) -> None:
    band = pymupdf.Rect(page.rect.x0 + 4, page.rect.y0 + 2, page.rect.x1 - 4, page.rect.y0 + 12)
    page.draw_rect(band, color=None, fill=(1, 1, 0.85), overlay=True)
    writer = pymupdf.TextWriter(page.rect, color=LABEL_COLOUR)
    writer.fill_textbox(band, text, font=font, fontsize=6.5)
    writer.write_text(page)


def _set_notes(
    page: pymupdf.Page, notes: list[str], lowest: float, typesetter: _Typesetter
) -> bool:
    """The notes at the page's foot, below its lowest block; False when they do not fit."""
    band = pymupdf.Rect(page.rect.x0 + 36, lowest + 6, page.rect.x1 - 36, page.rect.y1 - 12)
    if band.height < 3 * typesetter.min_size:
        return False
    text = "\n".join([NOTES_HEADING, *notes])
    size = min(9.0, typesetter.max_size)
    while size >= typesetter.min_size:
        writer = pymupdf.TextWriter(page.rect, color=TEXT_COLOUR)
        if not writer.fill_textbox(band, text, font=typesetter.font, fontsize=size):
            used = _grow(pymupdf.Rect(writer.text_rect), 2)
            page.draw_rect(used, color=None, fill=(1, 1, 1), overlay=True)
            writer.write_text(page)
            return True
        size -= 0.5
    return False


def _appendix(
    doc: pymupdf.Document,
    source_page: int,
    notes: list[str],
    font: pymupdf.Font,
    size: tuple[float, float],
) -> int:
    """Notes that did not fit their page, on pages added at the end; returns how many."""
    text = "\n".join([f"Notes to page {source_page} (translation continued):", *notes])
    added = 0
    while text:
        page = doc.new_page(width=size[0], height=size[1])
        added += 1
        writer = pymupdf.TextWriter(page.rect, color=TEXT_COLOUR)
        left = writer.fill_textbox(_grow(page.rect, -50), text, font=font, fontsize=10)
        writer.write_text(page)
        text = "\n".join(line for line, _ in left)
    return added


def source_pdf(source: bytes) -> pymupdf.Document:
    """The upload as a PDF document (an image upload converted, a page per image)."""
    from pagewise.documents.pages import open_document

    doc = open_document(source)
    if doc.is_pdf:
        return doc
    converted = pymupdf.open("pdf", doc.convert_to_pdf())
    doc.close()
    return converted


def _overlay_page(
    page: pymupdf.Page, spec: OverlayPage, typesetter: _Typesetter
) -> tuple[int, list[str]]:
    """Sets one page; returns its overflowed-block count and the notes that did not fit."""
    layout = spec.layout
    font = typesetter.font
    if page.rotation:
        # The layout is in the coordinates the reader sees (page.rect); drawing and text
        # insertion work in the unrotated page's. Turn the page's content instead (it looks
        # exactly as before), so that both are the same.
        page.remove_rotation()
    if layout is None:
        _label(page, spec.label or NO_LAYOUT_LABEL, font)
        return 0, []
    blocks = [block for block in layout.blocks if spec.translations.get(block.id, "").strip()]
    if layout.source == "text_layer":
        for block in blocks:
            for line in block.lines:
                page.add_redact_annot(_rect(line.box), fill=_NO_FILL)
        page.apply_redactions(
            images=_KEEP_IMAGES,
            graphics=_KEEP_LINE_ART,
            text=_REMOVE_TEXT,
        )
    else:
        zoom = _SAMPLE_DPI / 72
        raster = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB)
        for block in blocks:
            rect = _rect(block.box)
            colour = _background(raster, rect, zoom)
            page.draw_rect(_grow(rect, 1), color=None, fill=colour, overlay=True)
    notes: list[str] = []
    for block in blocks:
        rect = _rect(block.box)
        text = spec.translations[block.id].strip()
        fitted = typesetter.fit(page, rect, text, _source_font_size(block) * _GROW)
        if fitted.rest:
            number = len(notes) + 1
            rest = typesetter.mark(page, rect, fitted, number)
            notes.append(f"[{number}] {rest}")
        fitted.writer.write_text(page)
    if spec.label:
        _label(page, spec.label, font)
    lowest = max((block.box.y1 for block in layout.blocks), default=page.rect.y0)
    if notes and _set_notes(page, notes, lowest, typesetter):
        return len(notes), []
    return len(notes), notes


def overlay_document(
    doc: pymupdf.Document,
    pages: Sequence[OverlayPage],
    *,
    font_dir: str | None = None,
    min_font_size: float = 5.0,
    max_font_size: float = 14.0,
) -> tuple[dict[int, int], int]:
    """Turns ``doc`` (an open PDF, see :func:`source_pdf`) into the overlay, in place: ``pages``
    by page number, pages not listed stay unchanged; its fonts are subset. Returns the
    overflowed blocks per page and the appendix pages added. Render keeps the document open to
    draw the previews from it (the scans' images decoded once for the source's previews, the
    background samples and the overlay's previews)."""
    typesetter = _Typesetter(text_font(font_dir), min_font_size, max_font_size)
    by_number = {spec.page: spec for spec in pages}
    overflowed: dict[int, int] = {}
    leftovers: list[tuple[int, list[str], tuple[float, float]]] = []
    for page in doc.pages():
        spec = by_number.get(page.number + 1)
        if spec is None:
            continue
        count, notes = _overlay_page(page, spec, typesetter)
        overflowed[spec.page] = count
        if notes:
            leftovers.append((spec.page, notes, (page.rect.width, page.rect.height)))
    appendix = sum(
        _appendix(doc, number, notes, typesetter.font, size) for number, notes, size in leftovers
    )
    doc.subset_fonts()
    return overflowed, appendix


def save_pdf(doc: pymupdf.Document) -> bytes:
    """The bytes of an output PDF (unused objects dropped, streams compressed)."""
    return doc.tobytes(garbage=3, deflate=True)


@tracer.capture_method(capture_response=False)
def render_overlay(
    source: bytes,
    pages: Sequence[OverlayPage],
    *,
    font_dir: str | None = None,
    min_font_size: float = 5.0,
    max_font_size: float = 14.0,
) -> OverlayResult:
    """The overlay PDF of ``source`` (PDF or image bytes); ``pages`` by page number, pages
    not listed are copied unchanged."""
    with source_pdf(source) as doc:
        overflowed, appendix = overlay_document(
            doc, pages, font_dir=font_dir, min_font_size=min_font_size, max_font_size=max_font_size
        )
        pdf = save_pdf(doc)
    return OverlayResult(pdf=pdf, overflowed=overflowed, appendix_pages=appendix)
