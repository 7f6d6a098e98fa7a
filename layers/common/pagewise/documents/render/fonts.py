"""Embedded Unicode fonts: which family a render uses, registered once per process.

DejaVu (Latin, Greek, Cyrillic) from ``font_dir``, else the system directory; else Noto Sans
from the ``pymupdf-fonts`` package in the documents layer (Latin, Greek, Cyrillic: what a
Lambda without system fonts uses); reportlab's bundled Bitstream Vera is the last resort and
covers Latin only: it is chosen explicitly (see :func:`choose_fonts`), logged, and the cover
page says which characters it cannot show. The base-14 fonts (Helvetica...) are never used:
they are not embedded.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

LOG = logging.getLogger(__name__)

SYSTEM_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
_REPORTLAB_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")

_register_lock = threading.Lock()


@dataclass(frozen=True)
class _FontFiles:
    family: str
    regular: str
    bold: str
    italic: str | None
    serif: str | None
    serif_bold: str | None
    unicode: bool


_DEJAVU = _FontFiles(
    "DejaVu",
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",  # fonts-dejavu-extra; optional
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    unicode=True,
)
_VERA = _FontFiles("Vera", "Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", None, None, unicode=False)
# pymupdf-fonts' names for Noto Sans (no serif faces: those roles use the sans ones).
_NOTO = _FontFiles("NotoSans", "notos", "notosbo", "notosit", None, None, unicode=True)
# The directory label of fonts that come from a package rather than a directory.
PACKAGED_FONTS = "pymupdf-fonts"


@dataclass(frozen=True)
class FontSet:
    """The registered font names used for one render.

    ``unicode`` is True for DejaVu (Latin, Greek, Cyrillic...) and False for the Vera fallback
    (Latin only). Missing optional faces fall back to the regular/bold sans faces.
    """

    family: str
    directory: str
    regular: str
    bold: str
    italic: str
    serif: str
    serif_bold: str
    unicode: bool
    _charmaps: tuple[frozenset[int], ...] = field(default=(), repr=False, compare=False)

    def missing_characters(self, text: str) -> list[str]:
        """Characters of ``text`` (other than whitespace) that no face of this set can show."""
        wanted = {ch for ch in text if not ch.isspace()}
        return sorted(ch for ch in wanted if not any(ord(ch) in cmap for cmap in self._charmaps))


def _register(name: str, font: Path | bytes) -> frozenset[int]:
    if name not in pdfmetrics.getRegisteredFontNames():
        source = io.BytesIO(font) if isinstance(font, bytes) else str(font)
        pdfmetrics.registerFont(TTFont(name, source))
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


def _directory_fonts(directory: str) -> Callable[[str], Path | None]:
    def find(filename: str) -> Path | None:
        path = Path(directory, filename)
        return path if path.is_file() else None

    return find


def _packaged_font(name: str) -> bytes | None:
    try:
        import pymupdf_fonts  # in the documents layer only
    except ImportError:
        return None
    try:
        font: bytes = pymupdf_fonts.myfont(name)
    except Exception:  # an unknown name, or a package build without that face
        return None
    return font


def choose_fonts(font_dir: str | None = None) -> FontSet:
    """Register (once per process) and return the first available family.

    Order: DejaVu in ``font_dir``, DejaVu in :data:`SYSTEM_DEJAVU_DIR`, Noto Sans from the
    ``pymupdf-fonts`` package (:data:`PACKAGED_FONTS`), then reportlab's bundled Vera, which
    always exists but has no Greek or Cyrillic (logged as a warning).
    """
    candidates: list[tuple[str, _FontFiles, Callable[[str], Path | bytes | None]]] = []
    if font_dir:
        candidates.append((font_dir, _DEJAVU, _directory_fonts(font_dir)))
    candidates.append((SYSTEM_DEJAVU_DIR, _DEJAVU, _directory_fonts(SYSTEM_DEJAVU_DIR)))
    candidates.append((PACKAGED_FONTS, _NOTO, _packaged_font))
    candidates.append((_REPORTLAB_FONT_DIR, _VERA, _directory_fonts(_REPORTLAB_FONT_DIR)))
    for directory, files, load in candidates:
        regular, bold = load(files.regular), load(files.bold)
        if regular is None or bold is None:
            continue
        # Names include the directory, so two font_dirs never collide in reportlab's
        # process-global registry.
        suffix = format(zlib.crc32(directory.encode()), "08x")
        names: dict[str, str] = {}
        charmaps: list[frozenset[int]] = []
        with _register_lock:
            for role in ("regular", "bold", "italic", "serif", "serif_bold"):
                filename = getattr(files, role)
                font = {"regular": regular, "bold": bold}.get(role) or (
                    load(filename) if filename else None
                )
                if font is not None:
                    names[role] = f"Pagewise{files.family}-{role}-{suffix}"
                    charmaps.append(_register(names[role], font))
            pdfmetrics.registerFontFamily(
                names["regular"],
                normal=names["regular"],
                bold=names["bold"],
                italic=names.get("italic", names["regular"]),
                boldItalic=names["bold"],
            )
        if not files.unicode:
            LOG.warning(
                "DejaVu fonts not found (font_dir=%r, %s) nor pymupdf-fonts: using reportlab's "
                "Vera, which has no Greek or Cyrillic glyphs",
                font_dir,
                SYSTEM_DEJAVU_DIR,
            )
        return FontSet(
            family=files.family,
            directory=directory,
            regular=names["regular"],
            bold=names["bold"],
            italic=names.get("italic", names["regular"]),
            serif=names.get("serif", names["regular"]),
            serif_bold=names.get("serif_bold", names["bold"]),
            unicode=files.unicode,
            _charmaps=tuple(charmaps),
        )
    raise RuntimeError("No TrueType font found (not even reportlab's bundled Vera).")
