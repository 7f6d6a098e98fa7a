"""Rendering a page for OCR: greyscale rasters, their resolution, and deskew.

Greyscale at ``dpi`` (300) but never above the resolution of the page's own scan and never
below 200. A raster remembers how it was rendered (the matrix and its pixel origin), so boxes
the engine finds on it map back to PDF points of the page as PyMuPDF shows it, whatever turn
was applied to read it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import pymupdf

from pagewise.documents.errors import DocumentError
from pagewise.documents.ocr.text_layer import MIN_SCAN_IMAGE_AREA

# Never rasterise below this: Tesseract accuracy collapses under ~200 dpi.
_MIN_DPI = 200
# An image file whose declared resolution is below this is taken to have none (MuPDF reports
# 96 for images without one, JPEG defaults to 72); its resolution is then estimated from its
# pixel size as if it were an A4/Letter page (11.69 in long).
_MIN_PLAUSIBLE_DECLARED_DPI = 150
_ASSUMED_PAGE_LONG_SIDE_INCHES = 11.69
# The language probe OCRs the densest horizontal band of this share of the page height
# (~100 words on a page of text, enough for the stop-word detector; ~0.5 s at 300 dpi), at
# least _MIN_PROBE_BAND_PIXELS rows.
_PROBE_BAND_FRACTION = 8
_MIN_PROBE_BAND_PIXELS = 400
# Deskew: Tesseract's page layout (--psm 3) loses most of a page skewed by 2 degrees or more
# one way (measured on 5.3: 33 of 714 words at +2 degrees, "Empty page!!" at +2.5) though it
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
_LIGHT_BYTES = bytes(range(128, 256))


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
        covers_page = abs(bbox & page.rect) / page_area >= MIN_SCAN_IMAGE_AREA
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
class Raster:
    """A greyscale rendering of the page: one byte per pixel, row by row.

    ``matrix`` rendered it from page coordinates and ``origin`` is its top-left pixel in the
    matrix's space: ``page_box`` maps a pixel box back to PDF points of ``page.rect``.
    """

    samples: bytes
    width: int
    height: int
    matrix: pymupdf.Matrix | None = None
    origin: tuple[int, int] = (0, 0)

    def band(self, top: int, bottom: int) -> Raster:
        """Rows ``top:bottom`` as a raster of their own (for the language probe)."""
        return Raster(
            self.samples[top * self.width : bottom * self.width], self.width, bottom - top
        )

    def page_box(self, left: int, top: int, right: int, bottom: int) -> pymupdf.Rect:
        """A pixel box of this raster in PDF points of the page (``page.rect``)."""
        x, y = self.origin
        return pymupdf.Rect(left + x, top + y, right + x, bottom + y) * self._to_page

    @cached_property
    def _to_page(self) -> pymupdf.Matrix:
        # Inverted once per raster, not once per word box (~7 ms a page of 400 words).
        if self.matrix is None:
            raise ValueError("this raster does not know how it was rendered")
        return ~self.matrix

    def is_flat(self) -> bool:
        """Every pixel has the same value. Not ``Pixmap.is_unicolor``: in PyMuPDF 1.28 that
        loops in Python and takes ~10 s on a 300-dpi page."""
        if not self.samples:
            return True
        # Stops at the first pixel that differs, so a page of text answers at once; a blank
        # page is one scan of its bytes.
        return re.search(b"[^%s]" % re.escape(self.samples[:1]), self.samples) is None

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


def render(page: pymupdf.Page, zoom: float, rotation: float, page_number: int) -> Raster:
    """The page in grey at ``zoom`` pixels per point, turned ``rotation`` degrees clockwise."""
    try:
        matrix = pymupdf.Matrix(zoom, zoom).prerotate(rotation)
        pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY, alpha=False)
        samples = pix.samples_mv.tobytes()
        if pix.stride != pix.width:  # never for one-channel pixmaps; be safe anyway
            samples = b"".join(
                samples[row * pix.stride : row * pix.stride + pix.width]
                for row in range(pix.height)
            )
        return Raster(samples, pix.width, pix.height, matrix, (pix.x, pix.y))
    except Exception as exc:
        raise DocumentError(
            "corrupt_document", f"Page {page_number} could not be rendered: {exc}"
        ) from exc
