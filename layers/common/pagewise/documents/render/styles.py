"""Colours and paragraph styles of the report, and text turned into paragraphs."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph

from pagewise.documents.render.content import EMPTY_TEXT
from pagewise.documents.render.fonts import FontSet
from pagewise.documents.render.text import markup, paragraph_blocks

INK = colors.HexColor("#1a1a1a")
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#bbbbbb")
LEGAL_COLOUR = colors.HexColor("#1f3a5f")
PLAIN_COLOUR = colors.HexColor("#2e6b3a")
PLAIN_BG = colors.HexColor("#eef6ef")
WARN = colors.HexColor("#8a4b00")
WARN_BG = colors.HexColor("#fff1d6")
HEADER_BG = colors.HexColor("#e8edf3")


def build_styles(fonts: FontSet) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body",
        fontName=fonts.regular,
        fontSize=10,
        leading=14,
        alignment=TA_LEFT,
        textColor=INK,
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
        "title": heading("title", INK, 20),
        "name": heading("name", LEGAL_COLOUR, 13),
        "h1": heading("h1", INK, 15),
        "legal_h": heading("legal_h", LEGAL_COLOUR),
        "plain_h": heading("plain_h", PLAIN_COLOUR),
        "not_translated_h": heading("not_translated_h", WARN),
        "source_h": heading("source_h", GREY),
        "body": body,
        "legal": ParagraphStyle("legal", parent=body, fontName=fonts.serif),
        "plain": ParagraphStyle(
            "plain", parent=body, backColor=PLAIN_BG, borderPadding=(2, 4, 3, 4), leftIndent=4
        ),
        "not_translated": body,
        "source": body,
        "label": ParagraphStyle(
            "label", parent=body, fontName=fonts.italic, fontSize=9, leading=12, textColor=GREY
        ),
        "note": ParagraphStyle(
            "note",
            parent=body,
            fontName=fonts.bold,
            fontSize=9.5,
            leading=13,
            textColor=WARN,
            backColor=WARN_BG,
            borderColor=WARN,
            borderWidth=0.6,
            borderPadding=5,
            spaceBefore=6,
            spaceAfter=10,
        ),
        "empty": ParagraphStyle("empty", parent=body, fontName=fonts.italic, textColor=GREY),
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


def text_flowables(
    text: str, style: ParagraphStyle, empty: ParagraphStyle, if_empty: str = EMPTY_TEXT
) -> list[Flowable]:
    flowables: list[Flowable] = [
        Paragraph(markup(piece), style) for pieces in paragraph_blocks(text) for piece in pieces
    ]
    return flowables or [Paragraph(markup(if_empty), empty)]
