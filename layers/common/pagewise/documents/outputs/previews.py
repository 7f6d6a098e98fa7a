"""Small PNG previews of pages, for a person to compare the source and the overlay at a glance."""

from __future__ import annotations

import pymupdf

from pagewise.documents.pages import open_document
from pagewise.observability import tracer

PREVIEW_WIDTH = 360  # pixels: sharp enough to recognise the layout, a few tens of KB


def document_previews(
    doc: pymupdf.Document, *, width: int = PREVIEW_WIDTH, pages: int | None = None
) -> list[bytes]:
    """One PNG per page of an open document (the first ``pages`` pages if given), ``width``
    pixels wide."""
    previews = []
    for index, page in enumerate(doc.pages()):
        if pages is not None and index >= pages:
            break
        zoom = width / page.rect.width
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB)
        previews.append(pixmap.tobytes("png"))
    return previews


@tracer.capture_method(capture_response=False)
def page_previews(
    document: bytes, *, width: int = PREVIEW_WIDTH, pages: int | None = None
) -> list[bytes]:
    """One PNG per page of PDF or image bytes (see :func:`document_previews`)."""
    with open_document(document) as doc:
        return document_previews(doc, width=width, pages=pages)
