"""What is rendered: the request (:class:`DocumentMeta`, :class:`RenderPage`), the sections
of a page's body and :func:`report_text`, shared by every output format. No reportlab here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from pagewise.documents.citations import KeyFact
from pagewise.documents.render.text import clean_text

Layout = Literal["standard", "bilingual"]
LAYOUTS: tuple[str, ...] = get_args(Layout)
SectionKind = Literal["legal", "plain", "not_translated", "source"]

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
    # Issue 17: the start of this page that ends a sentence of the previous page (translated
    # there), the start of the next page this page's translation took to end its last
    # sentence, and the glossary terms the translation used ("source → target") or missed.
    continuation: str = ""
    completion: str = ""
    glossary_applied: Sequence[str] = ()
    glossary_missed: Sequence[str] = ()


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
    # Issue 17: the verified key facts (the cover lists them with "p. N" and the quote), how
    # they were found, how many could not be verified (not shown), and the glossary's name.
    key_facts: Sequence[KeyFact] = ()
    facts_label: str = ""
    facts_unverified: int = 0
    glossary: str | None = None

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
    legal, plain = clean_text(page.legal_english), clean_text(page.plain_english)
    sections: list[Section]
    if not page.translated and legal.strip() == plain.strip():
        sections = [Section("not_translated", NOT_TRANSLATED_HEADING, legal)]
    else:
        suffix = "" if page.translated else " (not a translation)"
        sections = [
            Section("legal", LEGAL_HEADING + suffix, legal),
            Section("plain", PLAIN_HEADING + suffix, plain),
        ]
    source = clean_text(page.source_text)
    if not page.translated and source.strip() not in {"", *(s.text.strip() for s in sections)}:
        # A machine gist is no translation: the reader also gets the original, so nothing of
        # the document is lost from the PDF.
        sections.append(Section("source", SOURCE_HEADING, source))
    return sections


def page_marks(page: RenderPage) -> list[str]:
    """The lines that say how a page's translation relates to its neighbours and to the
    glossary, shown under the page's heading in every output."""
    marks = []
    if page.continuation:
        marks.append(
            f"Continuation: this page begins with the end of a sentence from page "
            f"{page.page - 1} (\u201c{page.continuation}\u201d), translated with page "
            f"{page.page - 1}."
        )
    if page.completion:
        marks.append(
            f"The last sentence continues on page {page.page + 1}; it is translated here whole."
        )
    if page.glossary_applied:
        marks.append("Glossary terms used: " + "; ".join(page.glossary_applied) + ".")
    if page.glossary_missed:
        marks.append("Glossary terms not used: " + "; ".join(page.glossary_missed) + ".")
    return marks


def report_text(pages: Iterable[RenderPage]) -> str:
    """The PDF's body as plain text (``ai_report_content``): for each page in page order,
    "Page N", its note if any, its marks (:func:`page_marks`), then each section's heading and
    text."""
    parts = []
    for page in sorted(pages, key=lambda p: p.page):
        lines = [f"Page {page.page}"]
        if page.note.strip():
            lines.append(clean_text(page.note).strip())
        lines += page_marks(page)
        for section in page_sections(page):
            lines.append(f"\n{section.heading}:\n{section.text.strip() or EMPTY_TEXT}")
        parts.append("\n".join(lines))
    return "\n\n\n".join(parts) + ("\n" if parts else "")


def language_name(code: str) -> str:
    names = [_LANGUAGE_NAMES.get(part.strip().lower()) for part in code.split("+")]
    known = [n for n in names if n]
    return f"{' + '.join(known)} ({code})" if known else code
