"""The translated PDF of today (``translated.pdf``): the cover, then each source page with
its sections, in the standard or the bilingual (side-by-side) layout."""

from __future__ import annotations

import io
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Table,
    TableStyle,
)

from pagewise.documents.render.content import (
    EMPTY_TEXT,
    SOURCE_LABELS,
    DocumentMeta,
    Layout,
    RenderPage,
    Section,
    language_name,
    page_marks,
    page_sections,
)
from pagewise.documents.render.cover import cover
from pagewise.documents.render.fonts import choose_fonts
from pagewise.documents.render.styles import (
    GREY,
    HEADER_BG,
    LEGAL_COLOUR,
    PLAIN_COLOUR,
    RULE,
    WARN,
    build_styles,
    text_flowables,
)
from pagewise.documents.render.template import PageDocument, SectionStart, numbered_canvas
from pagewise.documents.render.text import clean_text, markup, paragraph_blocks, shorten
from pagewise.observability import tracer


def _page_head(page: RenderPage, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    origin = SOURCE_LABELS.get(page.source, page.source)
    details = f"Source: {origin}"
    if page.language:
        details += f" · Language: {language_name(page.language)}"
    head: list[Flowable] = [
        Paragraph(f"Page {page.page}", st["h1"]),
        Paragraph(markup(details), st["label"]),
    ]
    if page.note.strip():
        head.append(Paragraph(markup(page.note.strip()), st["note"]))
    elif not page.translated:
        head.append(Paragraph("Not a translation.", st["note"]))
    head += [Paragraph(markup(mark), st["label"]) for mark in page_marks(page)]
    return head


def _section(section: Section, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    colour = {"legal": LEGAL_COLOUR, "plain": PLAIN_COLOUR, "not_translated": WARN, "source": GREY}[
        section.kind
    ]
    return [
        # Never leave a heading stranded at the bottom of a PDF page.
        CondPageBreak(30 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colour, spaceBefore=4, spaceAfter=0),
        Paragraph(markup(section.heading), st[f"{section.kind}_h"]),
        *text_flowables(section.text, st[section.kind], st["empty"]),
    ]


def _side_by_side(
    page: RenderPage, section: Section, width: float, st: dict[str, ParagraphStyle]
) -> Table:
    language = f" ({page.language})" if page.language else ""
    rows: list[list[Any]] = [
        [
            Paragraph(markup(f"Source text{language}"), st["cell_head"]),
            Paragraph(markup(section.heading), st["cell_head"]),
        ]
    ]
    right_style = st["cell_legal"] if section.kind == "legal" else st["cell"]
    for source_block, target_block in zip_longest(
        paragraph_blocks(page.source_text), paragraph_blocks(section.text)
    ):
        for left, right in zip_longest(source_block or [], target_block or []):
            rows.append(
                [
                    Paragraph(markup(left), st["cell"]) if left else "",
                    Paragraph(markup(right), right_style) if right else "",
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
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, LEGAL_COLOUR),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("LINEAFTER", (0, 0), (0, -1), 0.5, RULE),
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
        SectionStart(f"Source page {page.page}"),
        KeepTogether(_page_head(page, st)),
    ]
    sections = page_sections(page)
    first = sections[0]
    side_by_side = (
        layout == "bilingual"
        and page.source_text.strip()
        and clean_text(page.source_text).strip() != first.text.strip()
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
    st = build_styles(fonts)
    ordered = sorted(pages, key=lambda p: p.page)
    margin = 20 * mm
    buffer = io.BytesIO()
    doc = PageDocument(
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
    story = cover(meta, ordered, fonts, st)
    for page in ordered:
        story += _page_story(page, meta.layout, doc.width, st)
    footer = shorten(f"Pagewise — {meta.document_name}", 90)
    doc.build(story, canvasmaker=numbered_canvas(fonts.regular, footer, margin))
    return buffer.getvalue()
