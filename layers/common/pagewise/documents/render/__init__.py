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

Fonts: see :mod:`.fonts` (DejaVu, else Noto Sans from ``pymupdf-fonts``, else Vera; never
the unembedded base-14 fonts).

Modules, so that a new output (another PDF variant, a DOCX) can reuse what it needs:

* :mod:`.content` - the request and the page sections, shared by every output (no reportlab);
* :mod:`.text` - cleaning, escaping and cutting text;
* :mod:`.fonts` - choosing and registering the embedded fonts;
* :mod:`.styles` - colours and paragraph styles;
* :mod:`.template` - the A4 page template with running header and "Page x of y" footer;
* :mod:`.cover` - the cover page;
* :mod:`.report` - today's translated PDF (:func:`render_pdf`).
"""

from __future__ import annotations

from pagewise.documents.render.content import (
    EMPTY_TEXT,
    LAYOUTS,
    LEGAL_HEADING,
    NOT_TRANSLATED_HEADING,
    PLAIN_HEADING,
    SOURCE_HEADING,
    SOURCE_LABELS,
    DocumentMeta,
    Layout,
    RenderPage,
    Section,
    SectionKind,
    page_sections,
    report_text,
)
from pagewise.documents.render.fonts import (
    PACKAGED_FONTS,
    SYSTEM_DEJAVU_DIR,
    FontSet,
    choose_fonts,
)
from pagewise.documents.render.report import render_pdf

__all__ = [
    "EMPTY_TEXT",
    "LAYOUTS",
    "LEGAL_HEADING",
    "NOT_TRANSLATED_HEADING",
    "PACKAGED_FONTS",
    "PLAIN_HEADING",
    "SOURCE_HEADING",
    "SOURCE_LABELS",
    "SYSTEM_DEJAVU_DIR",
    "DocumentMeta",
    "FontSet",
    "Layout",
    "RenderPage",
    "Section",
    "SectionKind",
    "choose_fonts",
    "page_sections",
    "render_pdf",
    "report_text",
]
