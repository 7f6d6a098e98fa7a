"""A PDF page's text layer, and whether it is good enough to skip OCR.

A layer is used as is when it is visible, long enough and made of sane code points;
otherwise ``ocr_reason`` names why the page is OCR'd instead (see the package docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pymupdf

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
MIN_SCAN_IMAGE_AREA = 0.5
_MAX_STAMP_AREA = 0.05


@dataclass(frozen=True)
class TextLayer:
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


NO_LAYER = TextLayer("", 0.0, 0.0, 0.0)


def read_text_layer(page: pymupdf.Page) -> TextLayer:
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
    return TextLayer(
        text,
        invisible_ratio=invisible / (visible + invisible) if visible + invisible else 0.0,
        text_area=min(text_area / page_area, 1.0),
        image_area=min(image_area / page_area, 1.0),
        unmapped_ratio=unmapped / (visible + invisible) if visible + invisible else 0.0,
    )


def ocr_reason(layer: TextLayer, *, is_pdf: bool, min_text_chars: int) -> Reason | None:
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
    if layer.image_area >= MIN_SCAN_IMAGE_AREA and layer.text_area < _MAX_STAMP_AREA:
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


def is_usable_text_layer(text: str, min_text_chars: int) -> bool:
    visible = sum(1 for c in text if not c.isspace())
    return visible >= max(min_text_chars, 1) and _is_clean(text)
