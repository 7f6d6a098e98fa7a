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
        raise DocumentError("encrypted_document", "The PDF is password-protected.")
    try:
        page_count = doc.page_count
    except Exception as exc:
        doc.close()
        raise DocumentError("corrupt_document", f"The page tree is unreadable: {exc}") from exc
    if page_count < 1:
        doc.close()
        raise DocumentError("empty_document", "The document has no pages.")
    return doc


def count_pages(data: bytes) -> int:
    """Return the number of pages (1 for a single image, N for a multi-page TIFF)."""
    with open_document(data) as doc:
        return int(doc.page_count)
