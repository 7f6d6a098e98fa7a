"""Per-page text: the PDF text layer when it is usable, otherwise Tesseract OCR.

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

OCR, per page: greyscale, PNM to Tesseract on stdin, ``OMP_THREAD_LIMIT=1``, at ``dpi``
(300) but never above the resolution of the page's own scan and never below 200. Languages:
the job's ``source_language`` when it has a pack; else the language of an old text layer;
else the language earlier pages of the same document were found in (``document_language``);
else a probe, a quick English OCR of the page's densest band (~0.5 s) whose stop words name
the language; then ``<language>+eng``. A page read with a language from a hint whose text then
turns out to be in another language we have a pack for is read again with that pack.
Orientation: Tesseract OSD only when the page reads badly (see
``_ORIENTATION_CHECK_CONFIDENCE``), then the rotated page is OCR'd again and the better reading
kept.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pymupdf

from pagewise.documents.errors import DocumentError
from pagewise.documents.language import (
    SHIPPED_TESSERACT_LANGUAGES,
    choose_ocr_languages,
    detect_language,
    tesseract_languages,
    to_iso1,
)
from pagewise.documents.pages import open_document
from pagewise.observability import tracer

Source = Literal["text_layer", "ocr", "blank"]
Reason = Literal[
    "image_file",
    "no_text_layer",
    "short_text_layer",
    "garbled_text_layer",
    "invisible_text_layer",
    "text_stamp_on_scan",
]

# How much of a text layer may be undecodable glyphs (U+FFFD, controls, private use) before we
# distrust it: PDFs with broken font encodings yield such garbage and OCR does better.
_MAX_BAD_CHAR_RATIO = 0.05
# Real text is mostly letters and digits; a layer of punctuation/symbol soup is not usable.
_MIN_ALNUM_RATIO = 0.5
# A layer whose characters are mostly not drawn is an OCR layer someone else made.
_MAX_INVISIBLE_RATIO = 0.5
# A page is a scan when images cover this much of it; its visible text is only a stamp when
# the text's boxes cover less than _MAX_STAMP_AREA of the page (a page of 11-pt text covers
# ~60%, five lines ~6%, a Bates number or "COPY" stamp ~1%).
_MIN_SCAN_IMAGE_AREA = 0.5
_MAX_STAMP_AREA = 0.05
# Never rasterise below this: Tesseract accuracy collapses under ~200 dpi.
_MIN_DPI = 200
# An image file whose declared resolution is below this is taken to have none (MuPDF reports
# 96 for images without one, JPEG defaults to 72); its resolution is then estimated from its
# pixel size as if it were an A4/Letter page (11.69 in long).
_MIN_PLAUSIBLE_DECLARED_DPI = 150
_ASSUMED_PAGE_LONG_SIDE_INCHES = 11.69
# OSD runs only when the first reading's mean word confidence is below this. An upright clean
# page reads at 90-97, a degraded upright scan at 70-90, an upside-down page at ~45 (and
# Tesseract's own layout analysis reads some sideways pages correctly by itself). Measured on
# a 300-dpi A4 page: OCR 2.3-3.7 s, OSD 0.8-1.1 s; OSD on every page would add ~35% for the
# rare rotated page, so it runs only on pages that read badly.
_ORIENTATION_CHECK_CONFIDENCE = 70.0
# OSD: stop after this many characters (Tesseract's default, 50, refuses sparse pages with
# "Too few characters" and takes ~40% longer on dense ones). Its answer is only a proposal:
# the rotated page is OCR'd again and kept only if it reads better, so a low OSD confidence
# is acceptable.
_OSD_MIN_CHARACTERS = 20
_MIN_OSD_CONFIDENCE = 1.0
# The language probe OCRs the densest horizontal band of this share of the page height
# (~100 words on a page of text, enough for the stop-word detector; ~0.5 s at 300 dpi), at
# least _MIN_PROBE_BAND_PIXELS rows.
_PROBE_BAND_FRACTION = 8
_MIN_PROBE_BAND_PIXELS = 400
# Optional passes (OSD, the rotated re-read) run only when the remaining time budget allows
# this many more passes as long as the first one took.
_OPTIONAL_PASS_HEADROOM = 2.5
# Deskew: Tesseract 5.3's page layout (--psm 3) loses most of a page skewed by 2 degrees or
# more one way (measured: 33 of 714 words at +2 degrees, "Empty page!!" at +2.5) though it
# reads the same page skewed the other way. So estimate the skew first (projection profiles,
# ~20-35 ms a page) and straighten the page when it is off by more than _MIN_DESKEW_DEGREES,
# up to _MAX_DESKEW_DEGREES; beyond that it is not skew but a photo or a drawing.
_MIN_DESKEW_DEGREES = 0.3
_MAX_DESKEW_DEGREES = 5.0
# ...and only when straightening sharpens the row profile by this factor (a page of text
# gains 1.4-2.2x; a photo or a blank page gains nothing, and a "best" angle there is noise).
_MIN_DESKEW_GAIN = 1.1
_DESKEW_STRIPS = 16
_DESKEW_MAX_BINS = 800
# How much of stderr to keep in an error message; the job record is not a log.
_STDERR_SUMMARY_CHARS = 500
_LIGHT_BYTES = bytes(range(128, 256))


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
    * ``ocr_languages``: the Tesseract ``-l`` value of the kept pass.
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


# Traced without its result: the page's text.
@tracer.capture_method(capture_response=False)
def extract_page(
    data: bytes,
    page_number: int,
    *,
    tesseract_cmd: str = "tesseract",
    languages: str = SHIPPED_TESSERACT_LANGUAGES,
    source_language: str | None = None,
    document_language: str | None = None,
    dpi: int = 300,
    min_text_chars: int = 20,
    timeout_seconds: float | None = None,
    detect_orientation: bool = True,
) -> PageText:
    """Return the text of page ``page_number`` (1-based) of a PDF or image document.

    ``languages`` is the ``+``-joined set of Tesseract packs a page's language is chosen from
    (with one pack, that pack is used as is). ``source_language`` is the job's declared
    language, ISO 639-1 (``es``) or Tesseract (``spa``); it wins when it has a pack in
    ``languages``. ``document_language`` is the language other pages of the document were
    found in: it saves this page the probe (a quarter of a page's OCR time) and is checked
    against the text read. ``timeout_seconds`` bounds all Tesseract passes of the page together (the
    optional ones, OSD and a re-read of the turned page, are skipped when time runs short).
    ``detect_orientation=False`` never runs OSD (deskewing still happens).

    Raises ``DocumentError`` for unreadable documents and OCR failures, and ``ValueError`` for
    a page number outside the document (a caller bug, not a property of the document).
    """
    with open_document(data) as doc:
        if not 1 <= page_number <= doc.page_count:
            raise ValueError(f"page_number {page_number} is outside 1..{doc.page_count}")
        try:
            page = doc.load_page(page_number - 1)
            layer = _read_text_layer(page) if doc.is_pdf else _NO_LAYER
        except Exception as exc:
            raise DocumentError(
                "corrupt_document", f"Page {page_number} could not be read: {exc}"
            ) from exc

        reason = _ocr_reason(layer, is_pdf=doc.is_pdf, min_text_chars=min_text_chars)
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
            reader = _PageReader(
                page,
                page_number,
                is_pdf=doc.is_pdf,
                tesseract_cmd=tesseract_cmd,
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

    if reading is None:
        # A uniformly coloured page: nothing to read, and Tesseract was never started.
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
        )
    return _fallback(page_number, layer, reason, reading, reader)


def _fallback(
    page_number: int,
    layer: _TextLayer,
    reason: Reason,
    reading: _Reading | None,
    reader: _PageReader,
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
    )


# --- the text layer --------------------------------------------------------------------------


@dataclass(frozen=True)
class _TextLayer:
    """A PDF page's text layer and what it looks like on the page.

    ``invisible_ratio``: share of its characters that are not drawn (render mode 3, or zero
    opacity). ``text_area``: share of the page covered by the boxes of the visible text.
    ``image_area``: share of the page covered by images. ``unmapped_ratio``: share of its
    characters whose font gives no Unicode value (a subset font that lost its ToUnicode map:
    ``get_text`` then returns glyph ids, letter-like soup such as ``(O DUUHQGDWDULR`` for
    "El arrendatario", which no character check can tell from text).
    """

    text: str
    invisible_ratio: float
    text_area: float
    image_area: float
    unmapped_ratio: float = 0.0

    def is_trustworthy(self) -> bool:
        """Clean code points, and fonts that know what their glyphs mean."""
        return _is_clean(self.text) and self.unmapped_ratio <= _MAX_BAD_CHAR_RATIO


_NO_LAYER = _TextLayer("", 0.0, 0.0, 0.0)


def _read_text_layer(page: pymupdf.Page) -> _TextLayer:
    text = _clean_text(page.get_text("text", sort=True))
    page_rect = page.rect
    page_area = abs(page_rect) or 1.0
    visible = invisible = unmapped = 0
    text_area = 0.0
    if text.strip():
        for span in page.get_texttrace():
            chars = len(span["chars"])
            # Type 3 is text render mode 3 ("neither fill nor stroke"): OCR layers use it.
            if span["type"] == 3 or span["opacity"] == 0:
                invisible += chars
            else:
                visible += chars
                text_area += abs(pymupdf.Rect(span["bbox"]) & page_rect)
            # The trace reports U+FFFD where get_text substitutes the glyph id.
            unmapped += sum(1 for char in span["chars"] if char[0] == 0xFFFD)
    image_area = sum(abs(pymupdf.Rect(info["bbox"]) & page_rect) for info in page.get_image_info())
    return _TextLayer(
        text,
        invisible_ratio=invisible / (visible + invisible) if visible + invisible else 0.0,
        text_area=min(text_area / page_area, 1.0),
        image_area=min(image_area / page_area, 1.0),
        unmapped_ratio=unmapped / (visible + invisible) if visible + invisible else 0.0,
    )


def _ocr_reason(layer: _TextLayer, *, is_pdf: bool, min_text_chars: int) -> Reason | None:
    """Why the page must be OCR'd, or None when its text layer is good to use."""
    if not is_pdf:
        return "image_file"
    visible = sum(1 for c in layer.text if not c.isspace())
    if visible == 0:
        return "no_text_layer"
    if not layer.is_trustworthy():
        return "garbled_text_layer"
    if layer.invisible_ratio > _MAX_INVISIBLE_RATIO:
        return "invisible_text_layer"
    if layer.image_area >= _MIN_SCAN_IMAGE_AREA and layer.text_area < _MAX_STAMP_AREA:
        return "text_stamp_on_scan"
    if visible < max(min_text_chars, 1):
        return "short_text_layer"
    return None


def _clean_text(text: str) -> str:
    """Drop trailing spaces per line and surrounding blank lines; keep line structure."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _is_bad_char(ch: str) -> bool:
    code = ord(ch)
    return ch == "\ufffd" or (code < 32 and ch not in "\t\n\r") or 0xE000 <= code <= 0xF8FF


def _is_clean(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    bad = sum(1 for c in chars if _is_bad_char(c))
    alnum = sum(1 for c in chars if c.isalnum())
    return bad / len(chars) <= _MAX_BAD_CHAR_RATIO and alnum / len(chars) >= _MIN_ALNUM_RATIO


def _is_usable_text_layer(text: str, min_text_chars: int) -> bool:
    visible = sum(1 for c in text if not c.isspace())
    return visible >= max(min_text_chars, 1) and _is_clean(text)


# --- rendering -------------------------------------------------------------------------------


def render_dpi(page: pymupdf.Page, *, is_pdf: bool, dpi: int) -> tuple[int, float]:
    """The resolution to OCR the page at, and the zoom (pixels per point) that renders it.

    ``dpi``, but not above the resolution of a page-sized scan (upsampling adds no
    information and slows Tesseract down) and never below 200 (Tesseract's accuracy collapses
    below it; a 150-dpi fax is read better upsampled). For a PDF the scan's resolution is its
    pixel size over its displayed size; for an image file it is the declared resolution, or
    one estimated from the pixel size when none is declared.
    """
    page_area = abs(page.rect)
    images = [info for info in page.get_image_info() if abs(pymupdf.Rect(info["bbox"])) > 0]
    largest = max(images, key=lambda info: abs(pymupdf.Rect(info["bbox"])), default=None)
    native: float | None = None
    if largest is not None and page_area > 0:
        bbox = pymupdf.Rect(largest["bbox"])
        covers_page = abs(bbox & page.rect) / page_area >= _MIN_SCAN_IMAGE_AREA
        pixels = int(largest["width"]) * int(largest["height"])
        if covers_page and pixels > 0:
            # Area-based, so an image placed rotated on the page is measured right too.
            native = math.sqrt(pixels / (abs(bbox) / 72.0 / 72.0))
            if not is_pdf:
                declared = float(largest.get("xres") or 0)
                if declared < _MIN_PLAUSIBLE_DECLARED_DPI:
                    long_side = max(int(largest["width"]), int(largest["height"]))
                    native = max(declared, long_side / _ASSUMED_PAGE_LONG_SIDE_INCHES)
    effective = dpi if native is None else min(dpi, round(native))
    effective = max(effective, _MIN_DPI)
    if native is None or is_pdf:
        return effective, effective / 72.0
    # An image file's page is its pixel size at its declared resolution; scale from there.
    bbox = pymupdf.Rect(largest["bbox"]) if largest else page.rect
    pixels_per_point = int(largest["width"]) / bbox.width if largest and bbox.width else 1.0
    return effective, pixels_per_point * effective / native


@dataclass(frozen=True)
class _Raster:
    """A greyscale rendering of the page: one byte per pixel, row by row."""

    samples: bytes
    width: int
    height: int

    def pnm(self, top: int = 0, bottom: int | None = None) -> bytes:
        """PNM (P5) bytes of rows ``top:bottom``. Tesseract reads PNM without decompression;
        PNG encoding of a 300-dpi page alone costs about half a second."""
        bottom = self.height if bottom is None else bottom
        header = b"P5\n%d %d\n255\n" % (self.width, bottom - top)
        return header + self.samples[top * self.width : bottom * self.width]

    def is_flat(self) -> bool:
        """Every pixel has the same value. Not ``Pixmap.is_unicolor``: in PyMuPDF 1.28 that
        loops in Python and takes ~10 s on a 300-dpi page; ``bytes.count`` takes ms."""
        return not self.samples or self.samples.count(self.samples[:1]) == len(self.samples)

    def densest_band(self) -> tuple[int, int]:
        """Rows ``(top, bottom)`` of the horizontal band with the most dark pixels."""
        band = min(self.height, max(self.height // _PROBE_BAND_FRACTION, _MIN_PROBE_BAND_PIXELS))
        step = max(band // 2, 1)
        starts = list(range(0, self.height - band + 1, step)) or [0]

        def ink(top: int) -> int:
            rows = self.samples[top * self.width : (top + band) * self.width]
            return len(rows.translate(None, _LIGHT_BYTES))

        top = max(starts, key=ink)
        return top, top + band

    def skew(self) -> float:
        """The small turn (degrees, for ``Matrix.prerotate``) that levels the text lines;
        0.0 when the page has no clear lines or is straight already.

        Projection profiles: the page is cut into vertical strips, each strip's dark pixels
        are counted per row, and for each candidate angle the strips are shifted against each
        other as the angle would shear them. Level lines give the spikiest total profile
        (largest sum of squares). Shifting strip profiles costs far less than rotating the
        image: ~20 ms for a short page, ~35 ms for a 300-dpi A4 page.
        """
        width, height, samples = self.width, self.height, self.samples
        strip_width = width // _DESKEW_STRIPS
        if strip_width < 8 or height < 8:
            return 0.0
        step = -(-height // _DESKEW_MAX_BINS)
        bins = -(-height // step)
        profiles = [[0] * bins for _ in range(_DESKEW_STRIPS)]
        for y in range(height):
            row = samples[y * width : (y + 1) * width]
            for strip, profile in enumerate(profiles):
                cells = row[strip * strip_width : (strip + 1) * strip_width]
                profile[y // step] += len(cells.translate(None, _LIGHT_BYTES))
        centres = [(strip + 0.5) * strip_width - width / 2 for strip in range(_DESKEW_STRIPS)]
        reach = math.tan(math.radians(_MAX_DESKEW_DEGREES)) * width / 2 / step
        margin = math.ceil(reach) + 1

        def sharpness(degrees: float) -> int:
            slope = math.tan(math.radians(degrees)) / step
            shifted = []
            for centre, profile in zip(centres, profiles, strict=True):
                shift = round(centre * slope)
                shifted.append([0] * (margin + shift) + profile + [0] * (margin - shift))
            return sum(total * total for total in map(sum, zip(*shifted, strict=True)))

        # Coarse (half-degree) search over the range, then twentieths around the best.
        coarse = max((half / 2 for half in range(-10, 11)), key=sharpness)
        best = max((coarse + twentieth / 20 for twentieth in range(-10, 11)), key=sharpness)
        if abs(best) < _MIN_DESKEW_DEGREES or abs(best) > _MAX_DESKEW_DEGREES:
            return 0.0
        if sharpness(best) < _MIN_DESKEW_GAIN * max(sharpness(0.0), 1):
            return 0.0
        return round(best, 2)


def _render(page: pymupdf.Page, zoom: float, rotation: float, page_number: int) -> _Raster:
    try:
        matrix = pymupdf.Matrix(zoom, zoom).prerotate(rotation)
        pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY, alpha=False)
        samples = pix.samples_mv.tobytes()
        if pix.stride != pix.width:  # never for one-channel pixmaps; be safe anyway
            samples = b"".join(
                samples[row * pix.stride : row * pix.stride + pix.width]
                for row in range(pix.height)
            )
        return _Raster(samples, pix.width, pix.height)
    except Exception as exc:
        raise DocumentError(
            "corrupt_document", f"Page {page_number} could not be rendered: {exc}"
        ) from exc


# --- OCR -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    text: str
    confidence: float | None
    words: int
    languages: str
    language: str | None
    rotation: int
    deskew: float


class _PageReader:
    """OCR of one page: render, choose languages, read, check orientation."""

    def __init__(
        self,
        page: pymupdf.Page,
        page_number: int,
        *,
        is_pdf: bool,
        tesseract_cmd: str,
        dpi: int,
        timeout_seconds: float | None,
    ) -> None:
        self.page = page
        self.page_number = page_number
        self.tesseract_cmd = tesseract_cmd
        self.started = time.perf_counter()
        self.deadline = None if timeout_seconds is None else self.started + timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.dpi, self.zoom = render_dpi(page, is_pdf=is_pdf, dpi=dpi)
        self.pass_seconds = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def read(
        self, *, candidates: str, language_hints: Sequence[str | None], detect_orientation: bool
    ) -> _Reading | None:
        """The page's best reading; None when the page is flat (Tesseract never runs)."""
        raster = _render(self.page, self.zoom, 0, self.page_number)
        if raster.is_flat():
            return None
        raster, deskew = self._straighten(raster, 0)
        packs = [pack for pack in candidates.split("+") if pack]
        rotation = 0
        orientation_checked = not detect_orientation

        if len(packs) <= 1:
            languages, language = candidates, to_iso1(candidates)
        else:
            languages, language = choose_ocr_languages(language_hints, candidates)
        hinted = language is not None and len(packs) > 1
        if language is None and len(packs) > 1:
            # Unknown language: read a band of the page with one pack, and let its stop
            # words name the language. A band that reads badly (English reads clean text in
            # any of our languages at 90+) is the first sign of a page on its side or upside
            # down: check the orientation now, before the full pass rather than after it.
            probe_pack = "eng" if "eng" in packs else packs[0]
            text, confidence, words = self._ocr(raster.pnm(*raster.densest_band()), probe_pack)
            if not orientation_checked and _reads_badly(words, confidence):
                orientation_checked = True
                rotation = self._orientation(raster)
                if rotation:
                    raster, deskew = self._straighten(
                        _render(self.page, self.zoom, rotation, self.page_number), rotation
                    )
                    text, _, _ = self._ocr(raster.pnm(*raster.densest_band()), probe_pack)
            # Too little text to tell, or a language we have no pack for: read with all.
            languages, language = choose_ocr_languages((), candidates, text=text)

        pass_started = time.perf_counter()
        text, confidence, words = self._ocr(raster.pnm(), languages)
        self.pass_seconds = time.perf_counter() - pass_started
        if hinted:
            # A hint is a guess about this page (a document's pages may change language):
            # when the text says otherwise, read it again with its own pack.
            found = detect_language(text)
            better = tesseract_languages(found, packs) if found else None
            if better and better != languages and self._has_time_for_optional_passes():
                languages, language = better, found
                text, confidence, words = self._ocr(raster.pnm(), languages)
        best = _Reading(text, confidence, words, languages, language, rotation, deskew)
        if (
            not orientation_checked
            and _reads_badly(words, confidence)
            and self._has_time_for_optional_passes()
        ):
            turn = self._orientation(raster)
            if turn and self._has_time_for_optional_passes():
                # OSD saw the straightened page: turn that, then level the turned page.
                turned, turned_deskew = self._straighten(
                    _render(self.page, self.zoom, turn + deskew, self.page_number), turn + deskew
                )
                text, confidence, words = self._ocr(turned.pnm(), languages)
                if (confidence or 0.0) > (best.confidence or 0.0):
                    best = _Reading(
                        text,
                        confidence,
                        words,
                        languages,
                        language,
                        turn,
                        round(deskew + turned_deskew, 2),
                    )
        return best

    def _straighten(self, raster: _Raster, rotation: float) -> tuple[_Raster, float]:
        """The raster levelled if it is skewed, and the extra degrees it was turned by."""
        skew = raster.skew()
        if not skew:
            return raster, 0.0
        return _render(self.page, self.zoom, rotation + skew, self.page_number), skew

    def _has_time_for_optional_passes(self) -> bool:
        if self.deadline is None:
            return True
        remaining = self.deadline - time.perf_counter()
        return remaining > _OPTIONAL_PASS_HEADROOM * self.pass_seconds

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise DocumentError(
                "ocr_failed", f"Tesseract took longer than {self.timeout_seconds}s."
            )
        return remaining

    def _ocr(self, pnm: bytes, languages: str) -> tuple[str, float | None, int]:
        """(text, mean word confidence, word count) of one Tesseract pass."""
        # --dpi: PNM carries no resolution and Tesseract would otherwise guess (and warn).
        args = ["-l", languages, "--psm", "3", "--dpi", str(self.dpi), "tsv"]
        proc = _run_tesseract(
            self.tesseract_cmd, pnm, args, self._remaining(), self.timeout_seconds
        )
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()[-_STDERR_SUMMARY_CHARS:]
            raise DocumentError(
                "ocr_failed", f"Tesseract exited with status {proc.returncode}: {stderr}"
            )
        text, confidence = parse_tsv(proc.stdout.decode("utf-8", "replace"))
        return text, confidence, len(text.split())

    def _orientation(self, raster: _Raster) -> int:
        """Degrees (clockwise) to turn the page upright per Tesseract OSD; 0 when OSD is
        unsure or fails (a sparse page, a missing osd pack): the page is then read as it is."""
        args = ["-l", "osd", "--psm", "0", "--dpi", str(self.dpi)]
        args += ["-c", f"min_characters_to_try={_OSD_MIN_CHARACTERS}"]
        try:
            proc = _run_tesseract(
                self.tesseract_cmd, raster.pnm(), args, self._remaining(), self.timeout_seconds
            )
        except DocumentError:
            return 0
        if proc.returncode != 0:
            return 0
        return parse_osd(proc.stdout.decode("utf-8", "replace"))


def _reads_badly(words: int, confidence: float | None) -> bool:
    """Some words were read, but with a confidence typical of a page on its side or upside
    down (nothing read at all is an empty page, and OSD would find nothing either)."""
    return words > 0 and (confidence is None or confidence < _ORIENTATION_CHECK_CONFIDENCE)


def _run_tesseract(
    tesseract_cmd: str,
    pnm: bytes,
    args: list[str],
    timeout: float | None,
    timeout_seconds: float | None,
) -> subprocess.CompletedProcess[bytes]:
    # One thread per Tesseract: its OpenMP threading is 3-4x slower than running pages in
    # parallel processes on small machines.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [tesseract_cmd, "stdin", "stdout", *args]
    try:
        return subprocess.run(
            cmd, input=pnm, capture_output=True, env=env, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise DocumentError("ocr_failed", f"Tesseract is not installed ({tesseract_cmd}).") from exc
    except subprocess.TimeoutExpired as exc:
        raise DocumentError(
            "ocr_failed", f"Tesseract took longer than {timeout_seconds}s."
        ) from exc
    except OSError as exc:
        raise DocumentError("ocr_failed", f"Tesseract could not be started: {exc}") from exc


_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_OSD_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


def parse_osd(output: str) -> int:
    """The clockwise rotation (0/90/180/270) Tesseract's ``--psm 0`` output proposes, or 0
    when it proposes none or is below ``_MIN_OSD_CONFIDENCE``."""
    rotate, confidence = _OSD_ROTATE.search(output), _OSD_CONFIDENCE.search(output)
    if rotate is None or confidence is None:
        return 0
    degrees = int(rotate.group(1)) % 360
    if degrees not in (90, 180, 270) or float(confidence.group(1)) < _MIN_OSD_CONFIDENCE:
        return 0
    return degrees


def parse_tsv(tsv: str) -> tuple[str, float | None]:
    """Rebuild text from Tesseract TSV and return it with the mean word confidence.

    Words on one line are joined by spaces, lines by a newline, and paragraphs/blocks by a
    blank line, so the translator sees the document's structure.
    """
    # Tesseract's words may contain quotes; TSV has no quoting, so disable it.
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    paragraphs: dict[tuple[int, int, int], dict[int, list[str]]] = {}
    confidences: list[float] = []
    for row in reader:
        if row.get("level") != "5":
            continue
        word = (row.get("text") or "").strip()
        if not word:
            continue
        try:
            key = (int(row["page_num"]), int(row["block_num"]), int(row["par_num"]))
            line = int(row["line_num"])
            conf = float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        paragraphs.setdefault(key, {}).setdefault(line, []).append(word)
        if conf >= 0:
            confidences.append(conf)
    # Tesseract emits rows in reading order; dicts keep insertion order, so no sort is needed.
    text = "\n\n".join(
        "\n".join(" ".join(words) for words in lines.values()) for lines in paragraphs.values()
    )
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    return text, confidence
