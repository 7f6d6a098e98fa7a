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


def _union(boxes: list[Box]) -> Box:
    """What ``Rect() | box | box ...`` gives (an empty box adds nothing), without making a
    Rect per word: the coordinates come from MuPDF's floats, so min and max are exact."""
    x0 = y0 = x1 = y1 = 0.0
    empty = True
    for box in boxes:
        if box.x0 >= box.x1 or box.y0 >= box.y1:
            continue
        if empty:
            x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
            empty = False
        else:
            x0, y0 = min(x0, box.x0), min(y0, box.y0)
            x1, y1 = max(x1, box.x1), max(y1, box.y1)
    return Box(x0=x0, y0=y0, x1=x1, y1=y1)


def layout_from_page(page: pymupdf.Page) -> PageLayout:
    """Blocks, lines and words of ``page``'s text layer, in PDF points of ``page.rect``.

    Text blocks only (image blocks are not text); a block whose words are all blank is left
    out. Extraction coordinates are those of the unrotated page, so a rotated page's boxes
    are turned with ``page.rotation_matrix`` into the coordinates of ``page.rect``.
    """
    turn = page.rotation_matrix
    turned = bool(page.rotation)  # else the identity: the words' boxes are as extracted
    words_by_line: dict[int, dict[int, list[Word]]] = defaultdict(lambda: defaultdict(list))
    for x0, y0, x1, y1, text, block_no, line_no, _word_no in page.get_text("words", sort=False):
        if not text.strip():
            continue
        box = (
            _box(pymupdf.Rect(x0, y0, x1, y1) * turn) if turned else Box(x0=x0, y0=y0, x1=x1, y1=y1)
        )
        words_by_line[block_no][line_no].append(Word(text=text, box=box))
    blocks: list[Block] = []
    for x0, y0, x1, y1, _text, block_no, kind in page.get_text("blocks", sort=False):
        if kind != 0 or block_no not in words_by_line:
            continue
        lines = []
        for line_words in words_by_line[block_no].values():
            lines.append(Line(box=_union([word.box for word in line_words]), words=line_words))
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
