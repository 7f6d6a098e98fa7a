"""Summary results, and the deterministic extractive summary used when no LLM is configured."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

EXTRACTIVE_NOTE = "Extractive summary (sentences taken from the source text; no LLM)."


@dataclass(frozen=True)
class SummaryResult:
    """A document summary, labelled with how it was made.

    ``method``: ``"extractive"`` (no LLM), ``"llm"`` (one LLM call over the whole document),
    ``"llm_map_reduce"`` (parts summarised separately, then combined) or ``"none"`` (the
    document has no text; nothing was called). ``calls`` counts the LLM calls made, including
    any corrective retry.
    """

    text: str
    method: str
    provider: str
    model: str | None
    note: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0


# Sentence ends: . ! ? followed by whitespace; the CJK full stop and full-width ! ? (no space
# follows them in CJK text); or a blank line. Abbreviations ("Art. 5") split too: acceptable
# for a labelled, best-effort summary.
_SENTENCE_SPLIT = re.compile("(?<=[.!?])\\s+|(?<=[\u3002\uff01\uff1f])\\s*|\\n\\s*\\n")
_WORD = re.compile(r"\w+", re.UNICODE)
# Words this short are mostly articles and prepositions in any language; they say nothing
# about the topic and would dominate the frequencies.
_MIN_WORD_LEN = 4
# Fragments shorter than this (page numbers, stray headings) are not worth quoting.
_MIN_SENTENCE_CHARS = 20


def _words(text: str) -> list[str]:
    return [
        w
        for w in (m.group(0).casefold() for m in _WORD.finditer(text))
        if len(w) >= _MIN_WORD_LEN and not w.isdigit()
    ]


def extractive_summary(page_texts: list[str], max_sentences: int = 5, max_chars: int = 1200) -> str:
    """Pick the ``max_sentences`` most representative sentences, in document order.

    Sentences are scored by the mean document frequency of their words (mean, not sum, so long
    sentences do not win by length alone). Ties keep the earlier sentence. The result never
    exceeds ``max_chars``.
    """
    return " ".join(
        sentence
        for sentence, _ in extractive_sentences(
            page_texts, max_sentences=max_sentences, max_chars=max_chars
        )
    )


def extractive_sentences(
    page_texts: list[str], max_sentences: int = 5, max_chars: int = 1200
) -> list[tuple[str, list[int]]]:
    """The sentences :func:`extractive_summary` picks, each with the page (from 1) it is on."""
    if max_sentences < 1 or max_chars < 1:
        return []
    sentences: list[str] = []
    pages: list[int] = []
    for number, page in enumerate(page_texts, start=1):
        for raw in _SENTENCE_SPLIT.split(page or ""):
            sentence = " ".join(raw.split())  # collapse OCR line breaks inside a sentence
            if len(sentence) >= _MIN_SENTENCE_CHARS and _words(sentence):
                sentences.append(sentence)
                pages.append(number)
    if not sentences:
        # Nothing sentence-like (e.g. a form of short fields): fall back to the start of the text.
        joined = " ".join(" ".join(p.split()) for p in page_texts if p and p.strip())
        cited = [n for n, p in enumerate(page_texts, start=1) if p and p.strip()]
        return [(_truncate(joined, max_chars), cited)] if joined else []

    freq = Counter(w for s in sentences for w in _words(s))
    top = max(freq.values())
    scored: list[tuple[float, int]] = []
    for index, sentence in enumerate(sentences):
        words = _words(sentence)
        score = sum(freq[w] / top for w in words) / len(words)
        scored.append((score, index))
    # Highest score first; earlier sentence first among equals, for determinism.
    chosen = sorted(scored, key=lambda si: (-si[0], si[1]))[:max_sentences]

    picked: list[int] = []
    length = 0
    for _, index in chosen:
        extra = len(sentences[index]) + (1 if picked else 0)
        if length + extra > max_chars:
            continue
        picked.append(index)
        length += extra
    if not picked:
        # Even the best sentence is longer than max_chars: cut it rather than return nothing.
        best = chosen[0][1]
        return [(_truncate(sentences[best], max_chars), [pages[best]])]
    return [(sentences[i], [pages[i]]) for i in sorted(picked)]


def summarise_offline(
    page_texts: list[str], max_sentences: int = 5, max_chars: int = 1200
) -> SummaryResult:
    """The extractive summary as a :class:`SummaryResult`, for wiring both paths the same way."""
    return SummaryResult(
        text=extractive_summary(page_texts, max_sentences=max_sentences, max_chars=max_chars),
        method="extractive",
        provider="offline",
        model=None,
        note=EXTRACTIVE_NOTE,
    )


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0] or text[: max_chars - 1]
    return cut + "…"
