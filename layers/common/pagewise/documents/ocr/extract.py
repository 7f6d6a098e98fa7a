"""``extract_page``: one page's text (and, when OCR'd, its layout), the way the package
docstring describes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pagewise.documents.errors import DocumentError
from pagewise.documents.language import SHIPPED_TESSERACT_LANGUAGES, detect_language
from pagewise.documents.layout import PageLayout
from pagewise.documents.ocr.engine import OcrEngine, shared_engine
from pagewise.documents.ocr.page_layout import ocr_layout
from pagewise.documents.ocr.reader import PageReader, Reading
from pagewise.documents.ocr.text_layer import (
    NO_LAYER,
    Reason,
    TextLayer,
    ocr_reason,
    read_text_layer,
)
from pagewise.documents.pages import open_document
from pagewise.observability import tracer

Source = Literal["text_layer", "ocr", "blank"]


@dataclass(frozen=True)
class PageText:
    """The text of one page and how it was obtained.

    * ``confidence``: Tesseract's mean word confidence (0-100), None for a text layer.
    * ``ocr_seconds``: wall time of rendering and every Tesseract pass (0 for a text layer).
    * ``language``: ISO 639-1 code detected in the text (or, when the text is too short to
      tell, the language OCR was run for); None when unknown.
    * ``rotation``: degrees the page was turned clockwise before the kept OCR pass (0, 90,
      180 or 270); ``deskew``: the further small turn (degrees clockwise, negative for
      anticlockwise) that levelled a skewed scan.
    * ``dpi``: the resolution OCR read the page at (None for a text layer).
    * ``reason``: why the text layer was not used (None when it was).
    * ``ocr_languages``: the Tesseract language set of the kept pass (``spa+eng``).
    * ``engine``: the OCR engine and its version, when it ran.
    * ``layout``: an OCR'd page's blocks, lines and words in PDF points (None otherwise).
    """

    page: int
    text: str
    source: Source
    confidence: float | None
    ocr_seconds: float
    language: str | None = None
    rotation: int = 0
    dpi: int | None = None
    reason: Reason | None = None
    ocr_languages: str | None = None
    deskew: float = 0.0
    engine: str | None = None
    layout: PageLayout | None = None


# Traced without its result: the page's text.
@tracer.capture_method(capture_response=False)
def extract_page(
    data: bytes,
    page_number: int,
    *,
    engine: OcrEngine | None = None,
    data_dir: str | Path | None = None,
    languages: str = SHIPPED_TESSERACT_LANGUAGES,
    source_language: str | None = None,
    document_language: str | None = None,
    dpi: int = 300,
    min_text_chars: int = 20,
    timeout_seconds: float | None = None,
    detect_orientation: bool = True,
) -> PageText:
    """Return the text of page ``page_number`` (1-based) of a PDF or image document.

    ``engine`` reads the pages that need OCR; by default the warm Tesseract of this process
    with the traineddata in ``data_dir`` (default: the OCR layer's). It is looked up only when
    a page needs it: a text-layer or blank page never touches it. ``languages`` is the
    ``+``-joined set of Tesseract packs a page's language is chosen from (with one pack, that
    pack is used as is). ``source_language`` is the job's declared language, ISO 639-1 (``es``)
    or Tesseract (``spa``); it wins when it has a pack in ``languages``. ``document_language``
    is the language other pages of the document were found in: it saves this page the probe
    (a quarter of a page's OCR time) and is checked against the text read. ``timeout_seconds``
    bounds all OCR passes of the page together (the optional ones, OSD and a re-read of the
    turned page, are skipped when time runs short). ``detect_orientation=False`` never runs OSD
    (deskewing still happens).

    Raises ``DocumentError`` for unreadable documents, OCR failures and a missing engine
    (``ocr_engine_missing``), and ``ValueError`` for a page number outside the document (a
    caller bug, not a property of the document).
    """
    with open_document(data) as doc:
        if not 1 <= page_number <= doc.page_count:
            raise ValueError(f"page_number {page_number} is outside 1..{doc.page_count}")
        try:
            page = doc.load_page(page_number - 1)
            layer = read_text_layer(page) if doc.is_pdf else NO_LAYER
        except Exception as exc:
            raise DocumentError(
                "corrupt_document", f"Page {page_number} could not be read: {exc}"
            ) from exc

        reason = ocr_reason(layer, is_pdf=doc.is_pdf, min_text_chars=min_text_chars)
        if reason is None:
            return PageText(
                page_number,
                layer.text,
                "text_layer",
                None,
                0.0,
                language=detect_language(layer.text),
            )

        try:
            reader = PageReader(
                page,
                page_number,
                engine_factory=(lambda: engine) if engine else (lambda: shared_engine(data_dir)),
                is_pdf=doc.is_pdf,
                dpi=dpi,
                timeout_seconds=timeout_seconds,
            )
        except Exception as exc:
            raise DocumentError(
                "corrupt_document", f"Page {page_number} could not be measured: {exc}"
            ) from exc
        # An old OCR layer or a stamp, even untrusted, says which language the page is in.
        layer_language = detect_language(layer.text) if layer.is_trustworthy() else None
        reading = reader.read(
            candidates=languages,
            language_hints=(source_language, layer_language, document_language),
            detect_orientation=detect_orientation,
        )
        page_rect = page.rect

    if reading is None:
        # A uniformly coloured page: nothing to read, and the engine never ran.
        return _fallback(page_number, layer, reason, None, reader)
    if reading.text.strip():
        return PageText(
            page_number,
            reading.text,
            "ocr",
            reading.confidence,
            reader.elapsed(),
            language=detect_language(reading.text) or reading.language,
            rotation=reading.rotation,
            deskew=reading.deskew,
            dpi=reader.dpi,
            reason=reason,
            ocr_languages=reading.languages,
            engine=reader.engine.name,
            layout=ocr_layout(reading.recognition, reading.raster, page_number, page_rect),
        )
    return _fallback(page_number, layer, reason, reading, reader)


def _fallback(
    page_number: int,
    layer: TextLayer,
    reason: Reason,
    reading: Reading | None,
    reader: PageReader,
) -> PageText:
    # OCR found nothing. A short or untrusted but clean text layer (a lone heading, "Page 3",
    # an invisible layer over an unreadable image) is still better than calling the page blank.
    if layer.text and layer.is_trustworthy():
        return PageText(
            page_number,
            layer.text,
            "text_layer",
            None,
            reader.elapsed(),
            language=detect_language(layer.text),
            dpi=reader.dpi,
            reason=reason,
        )
    return PageText(
        page_number,
        "",
        "blank",
        reading.confidence if reading else None,
        reader.elapsed(),
        dpi=reader.dpi,
        reason=reason,
        ocr_languages=reading.languages if reading else None,
        engine=reader.engine.name if reading else None,
    )
