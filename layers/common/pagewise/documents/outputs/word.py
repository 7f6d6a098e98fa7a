"""The translation as a Word document (python-docx), for lawyers who edit it.

One section per source page, starting on a new page, headed "Page N" with its origin; then the
same sections as the report PDF (legal English, plain English, or the text shown when it is
not a translation, and the source for a machine gist), from ``page_sections``. Paragraphs are
the translation's blank-line-separated paragraphs, line breaks kept; a short line on its own
that reads as a heading (a Markdown ``#``, or a line in capitals) becomes a Word heading.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_SECTION
from docx.shared import Pt, RGBColor

from pagewise.documents.render.content import (
    EMPTY_TEXT,
    SOURCE_LABELS,
    DocumentMeta,
    RenderPage,
    page_sections,
)
from pagewise.observability import tracer

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_NOTE_COLOUR = RGBColor(0x9A, 0x3B, 0x00)


def _heading_text(paragraph: str) -> str | None:
    if "\n" in paragraph or len(paragraph) > 90:
        return None
    marked = _MARKDOWN_HEADING.match(paragraph)
    if marked:
        return marked.group(1).strip()
    letters = [ch for ch in paragraph if ch.isalpha()]
    if len(letters) >= 3 and all(ch.isupper() for ch in letters):
        return paragraph
    return None


def _write_text(document: object, text: str) -> None:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        document.add_paragraph(EMPTY_TEXT).italic = True  # type: ignore[attr-defined]
        return
    for paragraph in paragraphs:
        heading = _heading_text(paragraph)
        if heading is not None:
            document.add_heading(heading, level=3)  # type: ignore[attr-defined]
            continue
        lines = paragraph.split("\n")
        run = document.add_paragraph().add_run(lines[0])  # type: ignore[attr-defined]
        for line in lines[1:]:
            run.add_break()
            run.add_text(line)


@tracer.capture_method(capture_response=False)
def render_docx(meta: DocumentMeta, pages: Sequence[RenderPage]) -> bytes:
    """The Word document's bytes."""
    document = Document()
    document.core_properties.title = f"Pagewise translation — {meta.document_name}"
    document.core_properties.author = "Pagewise"
    document.add_heading(f"Pagewise translation — {meta.document_name}", level=0)
    if meta.summary.strip():
        document.add_heading("Summary", level=1)
        if meta.summary_label:
            document.add_paragraph(meta.summary_label).runs[0].italic = True
        _write_text(document, meta.summary)
    for page in sorted(pages, key=lambda p: p.page):
        document.add_section(WD_SECTION.NEW_PAGE)
        document.add_heading(f"Page {page.page}", level=1)
        origin = f"Source: {SOURCE_LABELS.get(page.source, page.source)}"
        if page.language:
            origin += f" · Language: {page.language}"
        document.add_paragraph(origin).runs[0].italic = True
        if page.note.strip():
            note = document.add_paragraph().add_run(page.note.strip())
            note.bold = True
            note.font.color.rgb = _NOTE_COLOUR
            note.font.size = Pt(9)
        for section in page_sections(page):
            document.add_heading(section.heading, level=2)
            _write_text(document, section.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
