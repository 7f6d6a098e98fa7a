"""Small PNG previews of pages, for a person to compare the source and the overlay at a glance."""

from __future__ import annotations

import pymupdf

from pagewise.documents.pages import open_document
from pagewise.observability import tracer

PREVIEW_WIDTH = 360  # pixels: sharp enough to recognise the layout, a few tens of KB


@tracer.capture_method(capture_response=False)
def page_previews(
    document: bytes, *, width: int = PREVIEW_WIDTH, pages: int | None = None
) -> list[bytes]:
    """One PNG per page (the first ``pages`` pages if given), ``width`` pixels wide."""
    with open_document(document) as doc:
        previews = []
        for index, page in enumerate(doc):
            if pages is not None and index >= pages:
                break
            zoom = width / page.rect.width
            pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB)
            previews.append(pixmap.tobytes("png"))
        return previews
