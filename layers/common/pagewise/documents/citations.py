"""A summary whose every statement cites its page, and key facts checked against the source.

The summary is an *overview* (a few sentences, each with the pages it draws on) and *key facts*
in the fields a lawyer scans for (:data:`CATEGORIES`), each with its page and a short verbatim
quote from the source text. Before a fact is shown its quote is looked for on the cited page
(:func:`verify_facts`): a fuzzy match of the folded quote against the folded page text
(:func:`quote_score`, ``difflib``); a fact whose quote is not found is kept in the result with
``verified: false`` and is never shown as a fact (the PDF, the web page and the email show
verified facts only, and say how many were not).

Without an LLM, :func:`pattern_facts` finds facts by pattern in the shipped languages (es, fr,
de, it, pt, ca, en): dates, amounts with a currency, governing-law and jurisdiction clauses,
parties, notice periods and termination; they are labelled ``pattern``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import BaseModel, Field

from pagewise.documents.glossary import fold

FactCategory = Literal[
    "parties",
    "dates",
    "amounts",
    "obligations",
    "termination",
    "governing_law",
    "jurisdiction",
]
CATEGORIES: tuple[FactCategory, ...] = get_args(FactCategory)
CATEGORY_LABELS: dict[str, str] = {
    "parties": "Parties",
    "dates": "Dates and deadlines",
    "amounts": "Amounts",
    "obligations": "Obligations",
    "termination": "Termination",
    "governing_law": "Governing law",
    "jurisdiction": "Jurisdiction",
}
# A quote matches when its best window on the page is at least this similar (0..1).
MATCH_THRESHOLD = 0.9
# Quotes shorter than this (folded characters) prove nothing ("Madrid").
MIN_QUOTE_CHARS = 8
# A window of the page is compared letter by letter only when it has this share of the
# quote's words: a 0.9 match of a quote that shares fewer whole words is not plausible.
MIN_SHARED_WORDS = 0.5
MAX_QUOTE_CHARS = 300
PATTERN_LABEL = "Key facts found by pattern in the source text (no LLM): pattern-extracted."


class OverviewSentence(BaseModel):
    text: str
    pages: list[int] = Field(default_factory=list)


class KeyFact(BaseModel):
    category: FactCategory
    text: str
    page: int
    quote: str
    verified: bool = False
    score: float = 0.0
    method: Literal["llm", "pattern"] = "llm"


class CitedSummary(BaseModel):
    """The summary as ``/result`` carries it (``summary_cited``)."""

    overview: list[OverviewSentence] = Field(default_factory=list)
    facts: list[KeyFact] = Field(default_factory=list)
    facts_verified: int = 0
    facts_unverified: int = 0
    facts_label: str = ""

    @property
    def shown_facts(self) -> list[KeyFact]:
        return [fact for fact in self.facts if fact.verified]


def cite(pages: Sequence[int]) -> str:
    """``p. 3`` or ``pp. 1, 3``."""
    unique = sorted(set(pages))
    if not unique:
        return ""
    if len(unique) == 1:
        return f"p. {unique[0]}"
    return "pp. " + ", ".join(str(page) for page in unique)


def overview_text(overview: Sequence[OverviewSentence]) -> str:
    """The overview as one paragraph, each sentence followed by its citation."""
    parts = []
    for sentence in overview:
        citation = cite(sentence.pages)
        parts.append(f"{sentence.text} ({citation})" if citation else sentence.text)
    return " ".join(parts)


# --- verification ----------------------------------------------------------------------------


def _normal(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def quote_score(quote: str, page_text: str) -> float:
    """How well ``quote`` is found in ``page_text`` (1.0: word for word), compared folded
    (case, accents), on words only (punctuation and line breaks ignored): the best
    ``difflib`` ratio over windows of the page as long as the quote (one word more or less).

    Only windows that share at least :data:`MIN_SHARED_WORDS` of the quote's words are
    compared letter by letter: an OCR slip leaves most words whole, and a quote that is not
    on the page is refused without comparing every window (a 15-word quote against a
    700-word page: milliseconds, not seconds)."""
    wanted = _normal(quote)
    text = _normal(page_text)
    if not wanted or not text:
        return 0.0
    needle = " ".join(wanted)
    if needle in " ".join(text):
        return 1.0
    size = len(wanted)
    need = max(1, math.ceil(MIN_SHARED_WORDS * size))
    counts = Counter(wanted)
    best = 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(needle)
    for length in sorted({max(1, size - 1), size, size + 1}):
        for start in range(0, max(1, len(text) - length + 1)):
            window = text[start : start + length]
            if sum((Counter(window) & counts).values()) < need:
                continue
            matcher.set_seq1(" ".join(window))
            if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
                continue
            best = max(best, matcher.ratio())
    return round(best, 3)


def verify_facts(facts: Sequence[KeyFact], page_texts: dict[int, str]) -> list[KeyFact]:
    """Each fact with ``verified`` and ``score`` set from its quote on its cited page."""
    checked = []
    for fact in facts:
        text = page_texts.get(fact.page, "")
        long_enough = len("".join(_normal(fact.quote))) >= MIN_QUOTE_CHARS
        score = quote_score(fact.quote, text) if text and long_enough else 0.0
        checked.append(
            fact.model_copy(update={"verified": score >= MATCH_THRESHOLD, "score": score})
        )
    return checked


def checked_summary(
    overview: Sequence[OverviewSentence],
    facts: Sequence[KeyFact],
    page_texts: dict[int, str],
    label: str = "",
) -> CitedSummary:
    """The summary with its facts verified and its citations limited to real pages."""
    known = set(page_texts)
    cleaned = [
        OverviewSentence(text=s.text, pages=sorted({p for p in s.pages if p in known}))
        for s in overview
        if s.text.strip()
    ]
    checked = verify_facts(facts, page_texts)
    verified = sum(1 for fact in checked if fact.verified)
    return CitedSummary(
        overview=cleaned,
        facts=checked,
        facts_verified=verified,
        facts_unverified=len(checked) - verified,
        facts_label=label,
    )


# --- offline: facts by pattern ---------------------------------------------------------------

_MONTHS = (
    # es, ca, pt, it, fr, de, en
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|gener|febrer|març|maig|juny|juliol|agost|setembre|octubre|"
    "novembre|desembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|"
    "dezembro|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre|januar|februar|märz|april|juni|juli|august|oktober|"
    "dezember|january|february|march|may|june|july|october|november|december"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}\.?(?:\s+(?:de|d'|del|di)\s*|\s+)(?:{_MONTHS})(?:\s+(?:de|del)\s+|\s+|,\s*)"
    rf"\d{{4}}\b|\b(?:{_MONTHS})\s+\d{{1,2}},\s*\d{{4}}\b|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{4}}\b",
    re.IGNORECASE,
)
_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?"
_CURRENCY = r"€|EUR|euros?|\$|USD|dólares|dollars?|£|GBP|libras|pounds?|CHF|francs?|francos"
_AMOUNT = re.compile(
    rf"(?:(?:€|\$|£|EUR|USD|GBP|CHF)\s?{_NUMBER})|(?:\b{_NUMBER}\s?(?:{_CURRENCY})(?!\w))",
    re.IGNORECASE,
)
# Phrases that open a clause of the kind, in the shipped languages.
_PHRASES: dict[FactCategory, tuple[str, ...]] = {
    "governing_law": (
        r"se\s+reg(?:irá|ira|e)\s+por",
        r"(?:ley|legislación|derecho)\s+aplicable",
        r"régi(?:e|)\s+par",
        r"droit\s+applicable",
        r"soumis\s+au\s+droit",
        r"unterliegt\s+dem",
        r"anwendbare[sn]?\s+recht",
        r"regolat[oa]\s+dalla",
        r"legge\s+applicabile",
        r"regid[oa]\s+pel[ao]",
        r"lei\s+aplicável",
        r"es\s+regirà\s+per",
        r"llei\s+aplicable",
        r"governed\s+by",
        r"governing\s+law",
    ),
    "jurisdiction": (
        r"(?:juzgados|tribunales)\s+de",
        r"se\s+someten",
        r"tribunaux\s+de",
        r"juridiction",
        r"gerichtsstand",
        r"foro\s+(?:competente\s+)?(?:di|de)",
        r"tribunais\s+de",
        r"(?:jutjats|tribunals)\s+de",
        r"courts\s+of",
        r"jurisdiction",
    ),
    "parties": (
        r"de\s+una\s+parte",
        r"de\s+otra\s+parte",
        r"d'une\s+part",
        r"d'autre\s+part",
        r"d'una\s+part",
        r"d'altra\s+part",
        r"da\s+una\s+parte",
        r"dall'altra\s+parte",
        r"de\s+um\s+lado",
        r"zwischen\b.{0,80}\bund\b",
        r"by\s+and\s+between",
        r"hereinafter",
    ),
    "termination": (
        r"resoluci[óo]n",
        r"rescindir",
        r"no\s+renovar",
        r"pr[oó]rroga",
        r"prorrogar[áa]",
        r"résiliation",
        r"kündigung",
        r"risoluzione",
        r"recesso",
        r"rescis[ãa]o",
        r"rescissió",
        r"terminat(?:e|ion)",
    ),
    "obligations": (
        r"se\s+obliga",
        r"deber[áa]",
        r"no\s+podr[áa]",
        r"s'engage",
        r"verpflichtet",
        r"si\s+impegna",
        r"obriga-se",
        r"s'obliga",
        r"shall\b",
    ),
}
_DEADLINE = re.compile(
    r"\b(?:\d+|un|una|dos|tres|cinco|diez|quince|treinta|sesenta|noventa|one|two|three|"
    r"thirty|sixty|ninety)\s+(?:días|dias|meses|años|jours|mois|tage|monate|giorni|mesi|"
    r"dies|mesos|days|months|years)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?;]*(?:[.!?;]|$)")
MAX_FACTS_PER_CATEGORY = 3
_CLAUSES_FIRST: tuple[FactCategory, ...] = ("parties", "governing_law", "jurisdiction")
_CLAUSES_LAST: tuple[FactCategory, ...] = ("termination", "obligations")


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding [start, end), whitespace collapsed, at most MAX_QUOTE_CHARS."""
    left = max(text.rfind(mark, 0, start) for mark in (". ", ".\n", ";", "\n\n"))
    left = 0 if left < 0 else left + 1
    right_marks = [i for i in (text.find(m, end) for m in (". ", ".\n", ";")) if i >= 0]
    right = min(right_marks) + 1 if right_marks else len(text)
    sentence = " ".join(text[left:right].split())
    if len(sentence) <= MAX_QUOTE_CHARS:
        return sentence
    # Too long: a window of words around the match.
    match = " ".join(text[start:end].split())
    at = sentence.find(match)
    lo = max(0, at - MAX_QUOTE_CHARS // 3)
    piece = sentence[lo : lo + MAX_QUOTE_CHARS]
    if lo > 0:
        piece = piece.split(" ", 1)[-1]
    return piece.rsplit(" ", 1)[0] if lo + MAX_QUOTE_CHARS < len(sentence) else piece


def _clause_from(text: str, start: int, limit: int = 90) -> str:
    """The clause that starts at ``start``: up to its sentence's end, at most ``limit``
    characters (cut at a word, with an ellipsis): the fact, beside the whole sentence quoted."""
    ends = [i for i in (text.find(mark, start) for mark in (". ", ".\n", ";")) if i >= 0]
    clause = " ".join(text[start : min(ends) if ends else len(text)].split())
    if len(clause) <= limit:
        return clause
    return clause[:limit].rsplit(" ", 1)[0] + "…"


def pattern_facts(page_texts: dict[int, str]) -> list[KeyFact]:
    """Facts found by pattern in each page's source text, labelled ``pattern``."""
    facts: list[KeyFact] = []
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()

    def add(
        category: FactCategory, text: str, page: int, source: str, span: tuple[int, int]
    ) -> None:
        if counts.get(category, 0) >= MAX_FACTS_PER_CATEGORY:
            return
        quote = _sentence_around(source, *span)
        key = (category, fold(quote))
        if key in seen or not quote:
            return
        seen.add(key)
        counts[category] = counts.get(category, 0) + 1
        facts.append(
            KeyFact(
                category=category,
                text=" ".join(text.split()),
                page=page,
                quote=quote,
                method="pattern",
            )
        )

    for page in sorted(page_texts):
        source = page_texts[page]
        for category in _CLAUSES_FIRST:
            for phrase in _PHRASES[category]:
                for match in re.finditer(phrase, source, re.IGNORECASE):
                    add(category, _clause_from(source, match.start()), page, source, match.span())
        for match in _DATE.finditer(source):
            add("dates", match.group(0), page, source, match.span())
        for match in _DEADLINE.finditer(source):
            add("dates", match.group(0), page, source, match.span())
        for match in _AMOUNT.finditer(source):
            add("amounts", match.group(0), page, source, match.span())
        for category in _CLAUSES_LAST:
            for phrase in _PHRASES[category]:
                for match in re.finditer(phrase, source, re.IGNORECASE):
                    add(category, _clause_from(source, match.start()), page, source, match.span())
    order = {category: index for index, category in enumerate(CATEGORIES)}
    return sorted(facts, key=lambda f: (order[f.category], f.page))
