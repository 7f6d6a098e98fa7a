"""The Unicode font the page-keeping outputs write with: the report's families (DejaVu, else
Noto Sans from pymupdf-fonts), as a PyMuPDF font; embedded, then subset when a PDF is saved."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pymupdf

from pagewise.documents.render.fonts import SYSTEM_DEJAVU_DIR, _packaged_font

# Serif first: the report sets legal English in DejaVu Serif.
_DEJAVU_FILES = ("DejaVuSerif.ttf", "DejaVuSans.ttf")
_NOTO_SANS = "notos"


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
