"""Detect a document's kind from its leading bytes; file names and declared types lie."""

from __future__ import annotations

from typing import Literal

from pagewise.documents.errors import DocumentError

Kind = Literal["pdf", "png", "jpeg", "tiff"]

CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}

# A PDF header may be preceded by junk; readers (and PyMuPDF) accept it within the first 1 KB.
_PDF_SEARCH_WINDOW = 1024


def detect_kind(data: bytes) -> Kind:
    """Return the document kind from magic bytes, or raise ``unsupported_file_type``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # TIFF and BigTIFF
        return "tiff"
    if b"%PDF-" in data[:_PDF_SEARCH_WINDOW]:
        return "pdf"
    raise DocumentError(
        "unsupported_file_type",
        "The file is not a PDF, PNG, JPEG or TIFF document.",
    )
