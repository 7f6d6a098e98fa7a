"""The Unicode font the page-keeping outputs write with: the report's families (DejaVu, else
Noto Sans from pymupdf-fonts), as a PyMuPDF font; embedded, then subset when a PDF is saved.

Also the two text operations those outputs repeat thousands of times per page, made cheap:
:func:`text_width` (``Font.text_length`` at size 1, from a per-font table of character
advances kept for the warm environment) and :func:`show_text` (``TextWriter.append`` without
re-measuring, at every call, all the text appended so far).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pymupdf
from pymupdf import mupdf

from pagewise.documents.render.fonts import SYSTEM_DEJAVU_DIR, _packaged_font

# Serif first: the report sets legal English in DejaVu Serif.
_DEJAVU_FILES = ("DejaVuSerif.ttf", "DejaVuSans.ttf")
_NOTO_SANS = "notos"
# TextWriter.append's defaults: no language, left to right, horizontal.
_NO_LANGUAGE = mupdf.fz_text_language_from_string(None)


@lru_cache(maxsize=4)
def text_font(font_dir: str | None = None) -> pymupdf.Font:
    """DejaVu Serif or Sans from ``font_dir`` or the system directory, else Noto Sans from
    the ``pymupdf-fonts`` package (what a Lambda without system fonts has)."""
    for directory in (font_dir, SYSTEM_DEJAVU_DIR):
        for name in _DEJAVU_FILES if directory else ():
            path = Path(str(directory), name)
            if path.is_file():
                return pymupdf.Font(fontfile=str(path))
    packaged = _packaged_font(_NOTO_SANS)
    if packaged is None:
        raise RuntimeError("No Unicode font: install DejaVu fonts or the pymupdf-fonts package.")
    return pymupdf.Font(fontbuffer=packaged)


@lru_cache(maxsize=8)
def _advances(font: pymupdf.Font) -> dict[str, float]:
    """Each character's advance at size 1, filled as characters are met."""
    return {}


@lru_cache(maxsize=8)
def _is_mono(font: pymupdf.Font) -> bool:
    return bool(font.flags["mono"] == 1)


def text_width(font: pymupdf.Font, text: str) -> float:
    """``font.text_length(text, fontsize=1)``, exactly (the same advances, summed in the same
    order), without asking MuPDF again for a character already measured."""
    advances = _advances(font)
    width: float = 0
    for char in text:
        advance = advances.get(char)
        if advance is None:
            advance = advances[char] = float(font.text_length(char, fontsize=1))
        width += advance
    return width


def show_text(
    writer: pymupdf.TextWriter, x: float, y: float, text: str, font: pymupdf.Font, size: float
) -> None:
    """``writer.append((x, y), text, font=font, fontsize=size)``, the same text at the same
    place, but without updating ``writer.text_rect`` and ``writer.last_point``: append
    re-measures the bounding box of everything appended so far at every call, so a page of
    words costs the square of its word count."""
    point = mupdf.fz_transform_point(mupdf.FzPoint(x, y), mupdf.FzMatrix(*writer.ictm))
    matrix = mupdf.fz_make_matrix(size, 0, 0, size, point.x, point.y)
    mupdf.fz_show_string(writer.this, font.this, matrix, text, 0, 0, 0, _NO_LANGUAGE)
    if _is_mono(font):  # as append does: write_text repairs a monospaced font's widths
        writer.used_fonts.add(font)
