"""Open documents with PyMuPDF and count their pages, mapping failures to DocumentError."""

from __future__ import annotations

import pymupdf

from pagewise.documents.errors import DocumentError
from pagewise.documents.kinds import detect_kind


def open_document(data: bytes) -> pymupdf.Document:
    """Open PDF or image bytes as a PyMuPDF document that is safe to read page by page.

    Raises ``DocumentError`` for unsupported, corrupt, encrypted or empty input. The caller
    owns the returned document and should close it (it is a context manager).
    """
    kind = detect_kind(data)
    try:
        doc = pymupdf.open(stream=data, filetype=kind)
    except Exception as exc:  # PyMuPDF raises FileDataError/RuntimeError/ValueError variants.
        raise DocumentError(
            "corrupt_document", f"The {kind.upper()} file could not be opened: {exc}"
        ) from exc
    # A PDF with only an owner password opens without one (needs_pass is false) and is fine to
    # read; only a user password actually blocks us.
    if doc.needs_pass:
        doc.close()
        raise DocumentError(
            "encrypted_pdf",
            "The PDF is password-protected; remove the password and upload it again.",
        )
    try:
        page_count = doc.page_count
    except Exception as exc:
        doc.close()
        raise DocumentError("corrupt_document", f"The page tree is unreadable: {exc}") from exc
    if page_count < 1:
        doc.close()
        raise DocumentError("empty_document", "The document has no pages.")
    if doc.is_pdf and doc.is_repaired:
        # MuPDF rebuilt a broken cross-reference table: the file is truncated or damaged, and
        # what it recovered may be missing pages or content. Refuse rather than be silently
        # wrong.
        doc.close()
        raise DocumentError(
            "corrupt_document",
            "The PDF is damaged (truncated or corrupt) and cannot be read reliably; "
            "upload an intact copy.",
        )
    return doc


def count_pages(data: bytes) -> int:
    """Return the number of pages (1 for a single image, N for a multi-page TIFF)."""
    with open_document(data) as doc:
        return int(doc.page_count)


def largest_page_pixels(data: bytes, dpi: int) -> tuple[int, int]:
    """(page number, pixels) of the page whose rasterisation would be largest: the page at
    ``dpi`` or its largest embedded image, whichever is bigger. Read from metadata only, so a
    decompression bomb is caught before anything is decoded."""
    worst = (1, 0)
    with open_document(data) as doc:
        for index, page in enumerate(doc):
            zoom = dpi / 72 if doc.is_pdf else 1.0
            pixels = int(page.rect.width * zoom) * int(page.rect.height * zoom)
            # The images' own pixel sizes (from their headers; nothing is decoded). For an
            # image document this is the figure that counts: it is OCR'd at its own size.
            for image in page.get_image_info():
                pixels = max(pixels, int(image["width"]) * int(image["height"]))
            if pixels > worst[1]:
                worst = (index + 1, pixels)
    return worst
