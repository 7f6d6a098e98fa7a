"""Render the translated document as a PDF with an embedded Unicode font."""

from __future__ import annotations

import io
import os
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

SYSTEM_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
_REPORTLAB_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")

# (regular file, bold file, registered family name). DejaVu covers Latin, Greek and Cyrillic;
# Vera (bundled with reportlab, so always present) is Latin-only and is the last resort. The
# base-14 Helvetica is never used: it is not embedded and has no glyphs beyond Latin-1.
_DEJAVU = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "PagewiseDejaVu")
_VERA = ("Vera.ttf", "VeraBd.ttf", "PagewiseVera")

_register_lock = threading.Lock()


@dataclass(frozen=True)
class RenderPage:
    """One source page as it appears in the output PDF."""

    page: int
    source: str
    legal_english: str
    plain_english: str
    note: str


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str


def _register_fonts(font_dir: str | None) -> _Fonts:
    """Register (once per process) and return the first available TTF family."""
    candidates: list[tuple[str, str, str, str]] = []
    if font_dir:
        candidates.append((font_dir, *_DEJAVU))
    candidates.append((SYSTEM_DEJAVU_DIR, *_DEJAVU))
    candidates.append((_REPORTLAB_FONT_DIR, *_VERA))
    for directory, regular_file, bold_file, family in candidates:
        regular_path = Path(directory, regular_file)
        bold_path = Path(directory, bold_file)
        if not (regular_path.is_file() and bold_path.is_file()):
            continue
        # Names include the directory so that two different font_dirs never collide in
        # reportlab's process-global registry.
        suffix = format(zlib.crc32(directory.encode()), "08x")
        regular, bold = f"{family}-{suffix}", f"{family}-Bold-{suffix}"
        with _register_lock:
            registered = set(pdfmetrics.getRegisteredFontNames())
            if regular not in registered:
                pdfmetrics.registerFont(TTFont(regular, str(regular_path)))
            if bold not in registered:
                pdfmetrics.registerFont(TTFont(bold, str(bold_path)))
            pdfmetrics.registerFontFamily(
                regular, normal=regular, bold=bold, italic=regular, boldItalic=bold
            )
        return _Fonts(regular, bold)
    raise RuntimeError("No TrueType font found (not even reportlab's bundled Vera).")


def _styles(fonts: _Fonts) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=fonts.regular, fontSize=10, leading=14, alignment=TA_LEFT
    )
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=fonts.bold, fontSize=20, leading=26, spaceAfter=10
        ),
        "meta": ParagraphStyle("meta", parent=body, textColor=colors.HexColor("#444444")),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=fonts.bold,
            fontSize=15,
            leading=20,
            spaceBefore=6,
            spaceAfter=4,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=fonts.bold,
            fontSize=12,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
            textColor=colors.HexColor("#1f3a5f"),
        ),
        "label": ParagraphStyle(
            "label",
            parent=body,
            fontSize=9,
            leading=12,
            textColor=colors.HexColor("#555555"),
        ),
        "note": ParagraphStyle(
            "note",
            parent=body,
            fontSize=9,
            leading=12,
            textColor=colors.HexColor("#8a4b00"),
            backColor=colors.HexColor("#fff4e0"),
            borderPadding=4,
            spaceBefore=4,
            spaceAfter=6,
        ),
        "body": body,
        "empty": ParagraphStyle("empty", parent=body, textColor=colors.HexColor("#888888")),
    }


def _markup(text: str) -> str:
    """Escape text for reportlab's mini-markup, keeping line breaks."""
    return escape(text).replace("\n", "<br/>")


def _text_block(text: str, style: ParagraphStyle, empty_style: ParagraphStyle) -> list[Flowable]:
    # One Paragraph per blank-line-separated block: platypus can split a paragraph across
    # pages, but many small paragraphs split faster and break more naturally.
    blocks = [b.strip("\n") for b in text.replace("\r\n", "\n").split("\n\n")]
    flowables: list[Flowable] = [Paragraph(_markup(b), style) for b in blocks if b.strip()]
    return flowables or [Paragraph("(no text on this page)", empty_style)]


def _format_time(moment: datetime) -> str:
    zone = moment.tzname()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def render_translated_pdf(
    *,
    document_name: str,
    summary: str,
    summary_label: str,
    provider_label: str,
    pages: list[RenderPage],
    generated_at: datetime,
    font_dir: str | None = None,
) -> bytes:
    """Return the translated document as PDF bytes: a cover with the summary, then each page."""
    fonts = _register_fonts(font_dir)
    st = _styles(fonts)
    rule_colour = colors.HexColor("#bbbbbb")

    story: list[Flowable] = [
        Paragraph("Pagewise translation", st["title"]),
        Paragraph(_markup(document_name), st["h2"]),
        Paragraph(_markup(f"Generated: {_format_time(generated_at)}"), st["meta"]),
        Paragraph(_markup(f"Translation: {provider_label}"), st["meta"]),
        Spacer(1, 6 * mm),
        HRFlowable(width="100%", thickness=0.7, color=rule_colour),
        Paragraph("Summary", st["h1"]),
        Paragraph(_markup(summary_label), st["label"]),
        Spacer(1, 2 * mm),
        *_text_block(summary, st["body"], st["empty"]),
    ]

    for page in sorted(pages, key=lambda p: p.page):
        story.append(PageBreak())
        header: list[Flowable] = [
            Paragraph(f"Page {page.page}", st["h1"]),
            Paragraph(_markup(f"Source: {page.source}"), st["label"]),
        ]
        if page.note:
            header.append(Paragraph(_markup(page.note), st["note"]))
        story.append(KeepTogether(header))
        for heading, text in (
            ("Legal English", page.legal_english),
            ("Plain English", page.plain_english),
        ):
            # Don't leave a section heading stranded at the bottom of a PDF page.
            story.append(CondPageBreak(30 * mm))
            story.append(HRFlowable(width="100%", thickness=0.5, color=rule_colour))
            story.append(Paragraph(heading, st["h2"]))
            story.extend(_text_block(text, st["body"], st["empty"]))

    footer_text = f"Pagewise — {document_name}"

    def draw_footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 8)
        canvas.setFillColor(colors.HexColor("#777777"))
        width, _ = A4
        canvas.drawString(doc.leftMargin, 10 * mm, footer_text[:120])
        canvas.drawRightString(width - doc.rightMargin, 10 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=f"Pagewise translation — {document_name}",
        author="Pagewise",
        # Without this the canvas starts in Helvetica, which would be referenced (unembedded).
        initialFontName=fonts.regular,
    )
    doc.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()
