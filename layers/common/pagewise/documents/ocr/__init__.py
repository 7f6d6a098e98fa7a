"""Per-page text: the PDF text layer when it is usable, otherwise OCR (Tesseract in process).

Deciding, per page:

* A PDF page whose text layer is visible, long enough and made of sane code points keeps its
  text (``text_layer``): extraction is ~1000x cheaper than OCR and exact.
* Everything else is rendered and OCR'd, and ``reason`` says why: ``image_file`` (the input
  is an image), ``no_text_layer`` (a scan, or text drawn as outlines), ``short_text_layer``,
  ``garbled_text_layer`` (unmapped fonts: U+FFFD, controls, private-use code points, or
  glyph ids where a font lost its ToUnicode map),
  ``invisible_text_layer`` (text render mode 3 or zero opacity: an old OCR layer, which we do
  not trust blindly) or ``text_stamp_on_scan`` (a page-sized image with a little visible text
  on it: a Bates number or "COPY" stamped on a scan). If OCR then finds nothing, a clean text
  layer still wins over calling the page blank.
* A page that renders as one flat colour is ``blank`` without running Tesseract.

OCR, per page: greyscale bytes to Tesseract in this process (``engine``: tesserocr, one warm
engine per language set, ``OMP_THREAD_LIMIT=1``, traineddata from the OCR layer), at ``dpi``
(300) but never above the resolution of the page's own scan and never below 200. Languages:
the job's ``source_language`` when it has a pack; else the language of an old text layer;
else the language earlier pages of the same document were found in (``document_language``);
else a probe, a quick English OCR of the page's densest band (~0.5 s) whose stop words name
the language; then ``<language>+eng``. A page read with a language from a hint whose text then
turns out to be in another language we have a pack for is read again with that pack.
Orientation: Tesseract OSD only when the page reads badly (see
``_ORIENTATION_CHECK_CONFIDENCE``), then the rotated page is OCR'd again and the better reading
kept.

Modules: ``text_layer`` (is the layer usable), ``raster`` (render, resolution, deskew),
``engine`` (tesserocr, the warm cache, the version), ``reader`` (languages, orientation,
re-reads), ``page_layout`` (boxes back to PDF points), ``extract`` (``extract_page``).
"""

from pagewise.documents.ocr.engine import ENGINE_NAME, OcrEngine, shared_engine
from pagewise.documents.ocr.extract import PageText, Source, extract_page
from pagewise.documents.ocr.raster import render_dpi
from pagewise.documents.ocr.text_layer import Reason

__all__ = [
    "ENGINE_NAME",
    "OcrEngine",
    "PageText",
    "Reason",
    "Source",
    "extract_page",
    "render_dpi",
    "shared_engine",
]
