"""Test helper: the PageLayout of a scanned page, read by the OCR engine (tesserocr in
process, the OCR layer's traineddata), as OcrPage stores it for Render."""

from __future__ import annotations

from pagewise.documents.layout import PageLayout
from pagewise.documents.ocr import extract_page


def ocr_layout(data: bytes, page_number: int, *, languages: str = "spa") -> PageLayout:
    text = extract_page(data, page_number, languages=languages, source_language=languages)
    assert text.source == "ocr" and text.layout is not None, (text.source, text.reason)
    return text.layout
