"""The layout of a page that has a text layer, read from the PDF with PyMuPDF.

Born-digital pages never go through OCR, so nothing stores their layout: it is rebuilt from the
PDF wherever it is needed (the per-block translation and the overlay). PyMuPDF's extraction is
deterministic, so the block ids ("b1", "b2"... in the order of the page's content) are the same
each time the same page is read.
"""

from __future__ import annotations

from collections import defaultdict

import pymupdf

from pagewise.documents.layout import Block, Box, Line, PageLayout, Word


def _box(rect: pymupdf.Rect) -> Box:
    return Box(x0=rect.x0, y0=rect.y0, x1=rect.x1, y1=rect.y1)


def layout_from_page(page: pymupdf.Page) -> PageLayout:
    """Blocks, lines and words of ``page``'s text layer, in PDF points of ``page.rect``.

    Text blocks only (image blocks are not text); a block whose words are all blank is left
    out. Extraction coordinates are those of the unrotated page, so a rotated page's boxes
    are turned with ``page.rotation_matrix`` into the coordinates of ``page.rect``.
    """
    turn = page.rotation_matrix
    words_by_line: dict[int, dict[int, list[Word]]] = defaultdict(lambda: defaultdict(list))
    for x0, y0, x1, y1, text, block_no, line_no, _word_no in page.get_text("words", sort=False):
        if not text.strip():
            continue
        rect = pymupdf.Rect(x0, y0, x1, y1) * turn
        words_by_line[block_no][line_no].append(Word(text=text, box=_box(rect)))
    blocks: list[Block] = []
    for x0, y0, x1, y1, _text, block_no, kind in page.get_text("blocks", sort=False):
        if kind != 0 or block_no not in words_by_line:
            continue
        lines = []
        for line_words in words_by_line[block_no].values():
            line_rect = pymupdf.Rect()
            for word in line_words:
                line_rect |= pymupdf.Rect(word.box.x0, word.box.y0, word.box.x1, word.box.y1)
            lines.append(Line(box=_box(line_rect), words=line_words))
        block_rect = pymupdf.Rect(x0, y0, x1, y1) * turn
        blocks.append(Block(id=f"b{len(blocks) + 1}", box=_box(block_rect), lines=lines))
    return PageLayout(
        page=page.number + 1,
        width=page.rect.width,
        height=page.rect.height,
        source="text_layer",
        blocks=blocks,
    )


def layout_from_pdf(document: bytes, page_number: int) -> PageLayout:
    """The layout of page ``page_number`` (1-based) of a PDF's bytes."""
    from pagewise.documents.pages import open_document

    with open_document(document) as doc:
        return layout_from_page(doc[page_number - 1])
