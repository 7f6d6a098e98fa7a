"""Render the translated document as a PDF with embedded Unicode fonts.

The API is two dataclasses and two pure functions:

* :class:`DocumentMeta` - the document (name, source language(s), summary and how it was
  made, provider and model, date) and the layout chosen for the job;
* :class:`RenderPage` - one source page: where its text came from, its language, the source
  text, the legal-English and plain-English texts, a note and whether it is a translation;
* :func:`render_pdf` returns the PDF bytes;
* :func:`report_text` returns the same body as plain text (``ai_report_content``), built from
  the same :func:`page_sections`, so what is stored is exactly what the PDF shows.

Layout. A cover page (title, a table of how the document was produced, the summary), then
each source page on a new PDF page: "Page N", its origin and language, the note (highlighted
when the text is not a translation), then the sections. Legal English is set in a serif face
under a blue heading and rule; plain English in the sans face, on a tinted background, under a
green heading and rule. When a page is not a translation and both texts are the same (the
offline provider: source text, or an Apertium gist) the text is shown once, under a heading
that says it is not a translation. Long text flows on; the running header names the source
page, with "(continued)" on its later PDF pages, and the footer counts "Page x of y".

The bilingual layout puts the source text and the legal English side by side, in a two-column
table whose rows are paragraph pairs (the n-th blank-line-separated paragraph of the source
beside the n-th of the translation; when the counts differ, the surplus comes last on its own
side). Plain English follows at full width. Rows never need to fit a page: very long
paragraphs are cut first into pieces of at most ``_MAX_BLOCK_CHARS`` (at a line break, else a
space, else inside the token), and the table is built with ``splitInRow=1``, so reportlab
splits a row that is still taller than the space left on the page inside its cells (without
it, a row taller than a frame raises ``LayoutError``).

Fonts. DejaVu (Latin, Greek, Cyrillic) from ``font_dir``, else the system directory; else
Noto Sans from the ``pymupdf-fonts`` package in the documents layer (Latin, Greek, Cyrillic: what
a Lambda without system fonts uses); reportlab's bundled Bitstream Vera is the last resort and
covers Latin only: it is chosen explicitly (see :func:`choose_fonts`), logged, and the cover page
says which characters it cannot show. The
base-14 fonts (Helvetica...) are never used: they are not embedded.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal, get_args
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from pagewise.observability import tracer

LOG = logging.getLogger(__name__)

Layout = Literal["standard", "bilingual"]
LAYOUTS: tuple[str, ...] = get_args(Layout)
SectionKind = Literal["legal", "plain", "not_translated", "source"]

SYSTEM_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
_REPORTLAB_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")

LEGAL_HEADING = "Legal English"
PLAIN_HEADING = "Plain English"
NOT_TRANSLATED_HEADING = "Text shown (not a translation)"
SOURCE_HEADING = "Source text"
EMPTY_TEXT = "(no text on this page)"
SOURCE_LABELS = {
    "text_layer": "text layer of the PDF",
    "ocr": "OCR of the page image",
    "blank": "blank page (no text found)",
}
_LANGUAGE_NAMES = {
    "ar": "Arabic", "ara": "Arabic", "bg": "Bulgarian", "bul": "Bulgarian",
    "ca": "Catalan", "cat": "Catalan", "cs": "Czech", "ces": "Czech",
    "de": "German", "deu": "German", "el": "Greek", "ell": "Greek",
    "en": "English", "eng": "English", "es": "Spanish", "spa": "Spanish",
    "fr": "French", "fra": "French", "it": "Italian", "ita": "Italian",
    "nl": "Dutch", "nld": "Dutch", "pl": "Polish", "pol": "Polish",
    "pt": "Portuguese", "por": "Portuguese", "ro": "Romanian", "ron": "Romanian",
    "ru": "Russian", "rus": "Russian", "tr": "Turkish", "tur": "Turkish",
    "uk": "Ukrainian", "ukr": "Ukrainian",
}  # fmt: skip

# Blocks longer than this are cut before they become Paragraphs: reportlab re-wraps the rest
# of a paragraph at every page split, so one 30,000-character paragraph costs far more than ten
# of 3,000; and in the bilingual table it bounds the height of a row.
_MAX_BLOCK_CHARS = 3000
# C0 controls other than tab/newline, DEL, and lone surrogates: not text, and some of them make
# reportlab or the PDF viewer choke.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

_register_lock = threading.Lock()


# --- the request ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RenderPage:
    """One source page as it appears in the output PDF.

    ``source`` is ``"text_layer"``, ``"ocr"`` or ``"blank"``; ``language`` the detected
    language code (``es``, ``spa``...); ``source_text`` the OCR or text-layer text (shown only
    by the bilingual layout); ``note`` a label shown above the text (e.g. "Not translated: ..."
    or "Apertium gist ..."); ``translated`` False when the texts are not a real translation.
    """

    page: int
    source: str = "ocr"
    language: str | None = None
    source_text: str = ""
    legal_english: str = ""
    plain_english: str = ""
    note: str = ""
    translated: bool = True


@dataclass(frozen=True, kw_only=True)
class DocumentMeta:
    """The document and how its translation was produced; shown on the cover page.

    ``source_languages`` defaults to the distinct page languages, in page order.
    ``summary_label`` says, for people, how the summary was made (e.g. "Extractive summary
    ..."); ``provider`` and ``model`` who translated (``"openai"``, ``"gpt-4o-mini"``;
    ``"apertium"``, ``"spa-eng"``; ``"offline"``, None).
    ``layout`` is ``"standard"`` or ``"bilingual"`` (source and translation side by side).
    """

    document_name: str
    generated_at: datetime
    summary: str = ""
    summary_label: str = ""
    source_languages: Sequence[str] = ()
    target_language: str = "English"
    provider: str = ""
    model: str | None = None
    layout: Layout = "standard"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {self.layout!r}")


@dataclass(frozen=True)
class Section:
    """One titled block of a page's body: the unit shared by the PDF and :func:`report_text`."""

    kind: SectionKind
    heading: str
    text: str


def page_sections(page: RenderPage) -> list[Section]:
    """The sections of a page's body, in order.

    A page that is not a translation and whose two texts are the same is one section, so the
    reader is not shown the same (source or gist) text twice under translation headings.
    """
    legal, plain = _clean(page.legal_english), _clean(page.plain_english)
    sections: list[Section]
    if not page.translated and legal.strip() == plain.strip():
        sections = [Section("not_translated", NOT_TRANSLATED_HEADING, legal)]
    else:
        suffix = "" if page.translated else " (not a translation)"
        sections = [
            Section("legal", LEGAL_HEADING + suffix, legal),
            Section("plain", PLAIN_HEADING + suffix, plain),
        ]
    source = _clean(page.source_text)
    if not page.translated and source.strip() not in {"", *(s.text.strip() for s in sections)}:
        # A machine gist is no translation: the reader also gets the original, so nothing of
        # the document is lost from the PDF.
        sections.append(Section("source", SOURCE_HEADING, source))
    return sections


def report_text(pages: Iterable[RenderPage]) -> str:
    """The PDF's body as plain text (``ai_report_content``): for each page in page order,
    "Page N", its note if any, then each section's heading and text."""
    parts = []
    for page in sorted(pages, key=lambda p: p.page):
        lines = [f"Page {page.page}"]
        if page.note.strip():
            lines.append(_clean(page.note).strip())
        for section in page_sections(page):
            lines.append(f"\n{section.heading}:\n{section.text.strip() or EMPTY_TEXT}")
        parts.append("\n".join(lines))
    return "\n\n\n".join(parts) + ("\n" if parts else "")


# --- fonts ----------------------------------------------------------------------------------


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


# --- text -----------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _NOT_TEXT.sub("", text)


def _markup(text: str) -> str:
    """Escape text for reportlab's paragraph markup (``&``, ``<``, ``>``), keeping newlines."""
    return escape(_clean(text)).replace("\n", "<br/>")


def _cut(block: str, limit: int = _MAX_BLOCK_CHARS) -> list[str]:
    """Cut a block into pieces of at most ``limit`` characters: at the last line break in the
    second half of the window, else the last space, else (an unbroken token) at the limit."""
    pieces = []
    while len(block) > limit:
        cut = block.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = block.rfind(" ", limit // 2, limit)
        if cut < 0:
            pieces.append(block[:limit])
            block = block[limit:]
        else:
            pieces.append(block[:cut])
            block = block[cut + 1 :]
    pieces.append(block)
    return [p for p in pieces if p.strip()]


def _blocks(text: str) -> list[list[str]]:
    """Blank-line-separated paragraphs of ``text``, each cut into pieces (see :func:`_cut`)."""
    blocks = re.split(r"\n[ \t]*\n", _clean(text))
    return [pieces for pieces in (_cut(b.strip("\n")) for b in blocks) if pieces]


# --- styles ---------------------------------------------------------------------------------

_INK = colors.HexColor("#1a1a1a")
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#bbbbbb")
_LEGAL = colors.HexColor("#1f3a5f")
_PLAIN = colors.HexColor("#2e6b3a")
_PLAIN_BG = colors.HexColor("#eef6ef")
_WARN = colors.HexColor("#8a4b00")
_WARN_BG = colors.HexColor("#fff1d6")
_HEADER_BG = colors.HexColor("#e8edf3")


def _styles(fonts: FontSet) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body",
        fontName=fonts.regular,
        fontSize=10,
        leading=14,
        alignment=TA_LEFT,
        textColor=_INK,
        spaceAfter=6,
        splitLongWords=1,
    )

    def heading(name: str, colour: colors.Color, size: float = 12) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            parent=body,
            fontName=fonts.bold,
            fontSize=size,
            leading=size + 4,
            spaceBefore=8,
            spaceAfter=5,
            textColor=colour,
        )

    return {
        "title": heading("title", _INK, 20),
        "name": heading("name", _LEGAL, 13),
        "h1": heading("h1", _INK, 15),
        "legal_h": heading("legal_h", _LEGAL),
        "plain_h": heading("plain_h", _PLAIN),
        "not_translated_h": heading("not_translated_h", _WARN),
        "source_h": heading("source_h", _GREY),
        "body": body,
        "legal": ParagraphStyle("legal", parent=body, fontName=fonts.serif),
        "plain": ParagraphStyle(
            "plain", parent=body, backColor=_PLAIN_BG, borderPadding=(2, 4, 3, 4), leftIndent=4
        ),
        "not_translated": body,
        "source": body,
        "label": ParagraphStyle(
            "label", parent=body, fontName=fonts.italic, fontSize=9, leading=12, textColor=_GREY
        ),
        "note": ParagraphStyle(
            "note",
            parent=body,
            fontName=fonts.bold,
            fontSize=9.5,
            leading=13,
            textColor=_WARN,
            backColor=_WARN_BG,
            borderColor=_WARN,
            borderWidth=0.6,
            borderPadding=5,
            spaceBefore=6,
            spaceAfter=10,
        ),
        "empty": ParagraphStyle("empty", parent=body, fontName=fonts.italic, textColor=_GREY),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=12, spaceAfter=0),
        "cell_legal": ParagraphStyle(
            "cell_legal", parent=body, fontName=fonts.serif, fontSize=9, leading=12, spaceAfter=0
        ),
        "cell_head": ParagraphStyle(
            "cell_head", parent=body, fontName=fonts.bold, fontSize=9, leading=12, spaceAfter=0
        ),
        "meta_key": ParagraphStyle(
            "meta_key", parent=body, fontName=fonts.bold, fontSize=9.5, spaceAfter=0
        ),
        "meta_value": ParagraphStyle("meta_value", parent=body, fontSize=9.5, spaceAfter=0),
    }


def _paragraphs(
    text: str, style: ParagraphStyle, empty: ParagraphStyle, if_empty: str = EMPTY_TEXT
) -> list[Flowable]:
    flowables: list[Flowable] = [
        Paragraph(_markup(piece), style) for pieces in _blocks(text) for piece in pieces
    ]
    return flowables or [Paragraph(_markup(if_empty), empty)]


# --- running header and footer --------------------------------------------------------------


class _SectionStart(Flowable):
    """Invisible marker: the running header names ``label`` from the page it is drawn on."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass


class _Document(BaseDocTemplate):
    """A4 with one frame; draws the running header at the end of each page, when it is known
    whether a section started on the page ("Source page 3") or carried on ("(continued)")."""

    def __init__(self, buffer: io.BytesIO, fonts: FontSet, header_left: str, **kw: Any) -> None:
        super().__init__(buffer, pagesize=A4, **kw)
        self._fonts = fonts
        self._header_left = header_left
        self._section: str | None = None
        self._section_started_here = False
        frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [PageTemplate("page", [frame], onPage=self._on_page, onPageEnd=self._on_page_end)]
        )

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _SectionStart):
            self._section = flowable.label
            self._section_started_here = True

    def _on_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        self._section_started_here = False

    def _on_page_end(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        if canvas.getPageNumber() == 1:
            return  # the cover has its own title
        label = self._section or ""
        if label and not self._section_started_here:
            label += " (continued)"
        width, height = A4
        y = height - self.topMargin + 6 * mm
        canvas.saveState()
        canvas.setFillColor(_GREY)
        canvas.setFont(self._fonts.regular, 8)
        canvas.drawString(self.leftMargin, y, _truncate(self._header_left, 70))
        canvas.setFont(self._fonts.bold, 9)
        canvas.drawRightString(width - self.rightMargin, y, label)
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.5)
        canvas.line(self.leftMargin, y - 2 * mm, width - self.rightMargin, y - 2 * mm)
        canvas.restoreState()


def _numbered_canvas(font: str, footer_left: str, margin: float) -> type[Canvas]:
    """A canvas that keeps every page until the end, to write "Page x of y" in the footer."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.saveState()
                self.setFont(font, 8)
                self.setFillColor(_GREY)
                self.drawString(margin, 10 * mm, footer_left)
                self.drawRightString(
                    width - margin, 10 * mm, f"Page {self.getPageNumber()} of {total}"
                )
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the story ------------------------------------------------------------------------------


def _format_time(moment: datetime) -> str:
    zone = moment.tzname()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def _language_name(code: str) -> str:
    names = [_LANGUAGE_NAMES.get(part.strip().lower()) for part in code.split("+")]
    known = [n for n in names if n]
    return f"{' + '.join(known)} ({code})" if known else code


def _source_languages(meta: DocumentMeta, pages: Sequence[RenderPage]) -> list[str]:
    codes = list(meta.source_languages) or [p.language for p in pages if p.language]
    return list(dict.fromkeys(c for c in codes if c))


def _cover(
    meta: DocumentMeta, pages: Sequence[RenderPage], fonts: FontSet, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    languages = _source_languages(meta, pages)
    provider = meta.provider or "not recorded"
    if meta.model:
        provider += f", model {meta.model}"
    layout = {
        "standard": "standard (translation only)",
        "bilingual": "bilingual (source text beside the legal English)",
    }[meta.layout]
    rows = [
        ("Document", meta.document_name),
        ("Source language(s)", ", ".join(_language_name(c) for c in languages) or "not detected"),
        ("Translated into", meta.target_language),
        ("Pages", str(len(pages))),
        ("Translation", provider),
        ("Summary", meta.summary_label or "not recorded"),
        ("Generated", _format_time(meta.generated_at)),
        ("Layout", layout),
    ]
    table = Table(
        [
            [Paragraph(_markup(k), st["meta_key"]), Paragraph(_markup(v), st["meta_value"])]
            for k, v in rows
        ],
        colWidths=[40 * mm, None],
        hAlign="LEFT",
        style=TableStyle(
            [
                # Table's own default is Helvetica, which is never embedded.
                ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, _RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    story: list[Flowable] = [
        _SectionStart("Summary"),
        Paragraph("Pagewise translation", st["title"]),
        Paragraph(_markup(meta.document_name), st["name"]),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 4 * mm),
    ]
    not_translated = [p.page for p in pages if not p.translated]
    if not_translated:
        story.append(
            Paragraph(
                _markup(
                    f"{len(not_translated)} of {len(pages)} pages are not a translation "
                    "(source text or a machine gist); each such page is labelled."
                ),
                st["note"],
            )
        )
    all_text = " ".join(
        [meta.document_name, meta.summary]
        + [p.source_text for p in pages]
        + [s.text for p in pages for s in page_sections(p)]
    )
    missing = fonts.missing_characters(all_text)
    if missing:
        examples = ", ".join(f"U+{ord(ch):04X}" for ch in missing[:8])
        LOG.warning("font %s cannot show %d characters (%s)", fonts.family, len(missing), examples)
        story.append(
            Paragraph(
                _markup(
                    f"The embedded font ({fonts.family}) has no glyphs for {len(missing)} "
                    f"characters of this document ({examples}{', ...' if len(missing) > 8 else ''}"
                    "); they are left blank. Install DejaVu fonts or set FONT_DIR."
                ),
                st["note"],
            )
        )
    story += [
        HRFlowable(width="100%", thickness=0.7, color=_RULE, spaceBefore=2 * mm),
        Paragraph("Summary", st["h1"]),
    ]
    if meta.summary_label:
        story.append(Paragraph(_markup(meta.summary_label), st["label"]))
    story += _paragraphs(meta.summary, st["body"], st["empty"], "(no summary)")
    return story


def _page_head(page: RenderPage, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    origin = SOURCE_LABELS.get(page.source, page.source)
    details = f"Source: {origin}"
    if page.language:
        details += f" · Language: {_language_name(page.language)}"
    head: list[Flowable] = [
        Paragraph(f"Page {page.page}", st["h1"]),
        Paragraph(_markup(details), st["label"]),
    ]
    if page.note.strip():
        head.append(Paragraph(_markup(page.note.strip()), st["note"]))
    elif not page.translated:
        head.append(Paragraph("Not a translation.", st["note"]))
    return head


def _section(section: Section, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    colour = {"legal": _LEGAL, "plain": _PLAIN, "not_translated": _WARN, "source": _GREY}[
        section.kind
    ]
    return [
        # Never leave a heading stranded at the bottom of a PDF page.
        CondPageBreak(30 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colour, spaceBefore=4, spaceAfter=0),
        Paragraph(_markup(section.heading), st[f"{section.kind}_h"]),
        *_paragraphs(section.text, st[section.kind], st["empty"]),
    ]


def _side_by_side(
    page: RenderPage, section: Section, width: float, st: dict[str, ParagraphStyle]
) -> Table:
    language = f" ({page.language})" if page.language else ""
    rows: list[list[Any]] = [
        [
            Paragraph(_markup(f"Source text{language}"), st["cell_head"]),
            Paragraph(_markup(section.heading), st["cell_head"]),
        ]
    ]
    right_style = st["cell_legal"] if section.kind == "legal" else st["cell"]
    for source_block, target_block in zip_longest(_blocks(page.source_text), _blocks(section.text)):
        for left, right in zip_longest(source_block or [], target_block or []):
            rows.append(
                [
                    Paragraph(_markup(left), st["cell"]) if left else "",
                    Paragraph(_markup(right), right_style) if right else "",
                ]
            )
    if len(rows) == 1:
        rows.append([Paragraph(EMPTY_TEXT, st["empty"]), Paragraph(EMPTY_TEXT, st["empty"])])
    return Table(
        rows,
        colWidths=[width / 2, width / 2],
        repeatRows=1,
        splitByRow=1,
        splitInRow=1,  # a row taller than the rest of the page splits inside its cells
        hAlign="LEFT",
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st["cell"].fontName),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, _LEGAL),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
                ("LINEAFTER", (0, 0), (0, -1), 0.5, _RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        ),
    )


def _page_story(
    page: RenderPage, layout: Layout, width: float, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    story: list[Flowable] = [
        PageBreak(),
        _SectionStart(f"Source page {page.page}"),
        KeepTogether(_page_head(page, st)),
    ]
    sections = page_sections(page)
    first = sections[0]
    side_by_side = (
        layout == "bilingual"
        and page.source_text.strip()
        and _clean(page.source_text).strip() != first.text.strip()
    )
    if side_by_side:
        story.append(_side_by_side(page, first, width, st))
        # The source is in the left column already.
        sections = [section for section in sections[1:] if section.kind != "source"]
    for section in sections:
        story += _section(section, st)
    return story


# Traced without its result: the PDF's bytes.
@tracer.capture_method(capture_response=False)
def render_pdf(
    meta: DocumentMeta, pages: Sequence[RenderPage], *, font_dir: str | None = None
) -> bytes:
    """The translated document as PDF bytes: a cover page, then each source page in order."""
    fonts = choose_fonts(font_dir)
    st = _styles(fonts)
    ordered = sorted(pages, key=lambda p: p.page)
    margin = 20 * mm
    buffer = io.BytesIO()
    doc = _Document(
        buffer,
        fonts,
        header_left=f"Pagewise translation — {meta.document_name}",
        leftMargin=margin,
        rightMargin=margin,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=f"Pagewise translation — {meta.document_name}",
        author="Pagewise",
        subject=f"Translation into {meta.target_language}",
        # Without this the canvas starts in Helvetica, which would be referenced (unembedded).
        initialFontName=fonts.regular,
    )
    story = _cover(meta, ordered, fonts, st)
    for page in ordered:
        story += _page_story(page, meta.layout, doc.width, st)
    footer = _truncate(f"Pagewise — {meta.document_name}", 90)
    doc.build(story, canvasmaker=_numbered_canvas(fonts.regular, footer, margin))
    return buffer.getvalue()
