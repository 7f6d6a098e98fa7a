"""The cover page: title, how the document was produced, font warnings and the summary."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Paragraph, Spacer, Table, TableStyle

from pagewise.documents.citations import CATEGORY_LABELS, KeyFact, cite
from pagewise.documents.render.content import (
    DocumentMeta,
    RenderPage,
    language_name,
    page_sections,
)
from pagewise.documents.render.fonts import FontSet
from pagewise.documents.render.styles import RULE, text_flowables
from pagewise.documents.render.template import SectionStart
from pagewise.documents.render.text import markup

LOG = logging.getLogger(__name__)


def _two_column_style(fonts: FontSet) -> TableStyle:
    """The cover's key/value tables: ruled rows, text from the top, no left padding."""
    return TableStyle(
        [
            # Table's own default is Helvetica, which is never embedded.
            ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def _format_time(moment: datetime) -> str:
    zone = moment.tzname()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def _source_languages(meta: DocumentMeta, pages: Sequence[RenderPage]) -> list[str]:
    codes = list(meta.source_languages) or [p.language for p in pages if p.language]
    return list(dict.fromkeys(c for c in codes if c))


def cover(
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
        ("Source language(s)", ", ".join(language_name(c) for c in languages) or "not detected"),
        ("Translated into", meta.target_language),
        ("Pages", str(len(pages))),
        ("Translation", provider),
        ("Summary", meta.summary_label or "not recorded"),
        *([("Glossary", meta.glossary)] if meta.glossary else []),
        ("Generated", _format_time(meta.generated_at)),
        ("Layout", layout),
    ]
    table = Table(
        [
            [Paragraph(markup(k), st["meta_key"]), Paragraph(markup(v), st["meta_value"])]
            for k, v in rows
        ],
        colWidths=[40 * mm, None],
        hAlign="LEFT",
        style=_two_column_style(fonts),
    )
    story: list[Flowable] = [
        SectionStart("Summary"),
        Paragraph("Pagewise translation", st["title"]),
        Paragraph(markup(meta.document_name), st["name"]),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 4 * mm),
    ]
    not_translated = [p.page for p in pages if not p.translated]
    if not_translated:
        story.append(
            Paragraph(
                markup(
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
                markup(
                    f"The embedded font ({fonts.family}) has no glyphs for {len(missing)} "
                    f"characters of this document ({examples}{', ...' if len(missing) > 8 else ''}"
                    "); they are left blank. Install DejaVu fonts or set FONT_DIR."
                ),
                st["note"],
            )
        )
    story += [
        HRFlowable(width="100%", thickness=0.7, color=RULE, spaceBefore=2 * mm),
        Paragraph("Summary", st["h1"]),
    ]
    if meta.summary_label:
        story.append(Paragraph(markup(meta.summary_label), st["label"]))
    story += text_flowables(meta.summary, st["body"], st["empty"], "(no summary)")
    return story + key_facts(meta, fonts, st)


def _fact_markup(fact: KeyFact) -> str:
    """The fact and its page, then the quote; the quote alone when it is the fact."""
    quote = markup(f"\u201c{fact.quote}\u201d")
    if " ".join(fact.text.split()) == " ".join(fact.quote.split()):
        return f"{quote} ({cite([fact.page])})"
    return markup(f"{fact.text} ({cite([fact.page])})") + "<br/>" + quote


def key_facts(meta: DocumentMeta, fonts: FontSet, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The verified key facts: category, the fact with its page ("p. 3"), the quote."""
    if not meta.key_facts and not meta.facts_unverified:
        return []
    story: list[Flowable] = [Paragraph("Key facts", st["h1"])]
    if meta.facts_label:
        story.append(Paragraph(markup(meta.facts_label), st["label"]))
    rows = [
        [
            Paragraph(markup(CATEGORY_LABELS.get(fact.category, fact.category)), st["meta_key"]),
            Paragraph(_fact_markup(fact), st["meta_value"]),
        ]
        for fact in meta.key_facts
    ]
    if rows:
        story.append(
            Table(
                rows,
                colWidths=[40 * mm, None],
                hAlign="LEFT",
                style=_two_column_style(fonts),
            )
        )
    if meta.facts_unverified:
        story.append(
            Paragraph(
                markup(
                    f"{meta.facts_unverified} more fact(s) were not shown: their quote was not "
                    "found on the page they cite."
                ),
                st["note"],
            )
        )
    return story
