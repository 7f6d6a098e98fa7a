"""The searchable original: the upload with an invisible text layer over every OCR'd page.

Each OCR word is written in text render mode 3 (neither filled nor stroked: invisible), its
font size chosen so that the word spans its box's width, on the baseline at the box's foot;
so the page can be searched, selected and copied where the words are, as OCRmyPDF does, and
renders exactly as before. Pages with a text layer, and pages without an OCR layout, are
left untouched. An image upload becomes a one-page-per-image PDF first.
"""

from __future__ import annotations

from collections.abc import Sequence

import pymupdf

from pagewise.documents.layout import PageLayout
from pagewise.documents.outputs.fonts import show_text, text_font, text_width
from pagewise.documents.outputs.overlay import save_pdf, source_pdf
from pagewise.observability import tracer

INVISIBLE = 3  # PDF text render mode 3: no fill, no stroke


def _text_layer(page: pymupdf.Page, layout: PageLayout, font: pymupdf.Font) -> None:
    writer = pymupdf.TextWriter(page.rect)
    descender = font.descender
    for block in layout.blocks:
        for line in block.lines:
            for index, word in enumerate(line.words):
                unit = text_width(font, word.text)
                if unit <= 0 or word.box.width <= 0:
                    continue
                size = word.box.width / unit
                # On the baseline: the box's foot, less the font's descent at this size.
                baseline = word.box.y1 + descender * size
                # A space after each word but a line's last, so extraction keeps words apart.
                text = word.text if index == len(line.words) - 1 else word.text + " "
                show_text(writer, word.box.x0, baseline, text, font, size)
    writer.write_text(page, render_mode=INVISIBLE)


@tracer.capture_method(capture_response=False)
def render_searchable(
    source: bytes, layouts: Sequence[PageLayout], *, font_dir: str | None = None
) -> bytes:
    """``source`` with the words of every OCR layout in ``layouts`` as invisible text."""
    font = text_font(font_dir)
    ocr = {layout.page: layout for layout in layouts if layout.source == "ocr"}
    with source_pdf(source) as doc:
        for page in doc:
            layout = ocr.get(page.number + 1)
            if layout is not None and layout.blocks:
                if page.rotation:
                    # The words' boxes are where the reader sees them: turn the content
                    # instead of the page (it looks the same) so that they are in place.
                    page.remove_rotation()
                _text_layer(page, layout, font)
        doc.subset_fonts()
        return save_pdf(doc)
