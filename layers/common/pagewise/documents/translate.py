"""Translation results, and the offline provider used when no LLM is configured."""

from __future__ import annotations

from dataclasses import dataclass

OFFLINE_NOTE = "Not translated: no LLM is configured; this is the source text."


@dataclass(frozen=True)
class PageTranslation:
    """One page in legal and plain English, labelled with who produced it.

    ``translated`` is False whenever the text is not a real translation, so the API and the
    PDF can say so instead of passing source text off as English.
    """

    legal_english: str
    plain_english: str
    provider: str
    model: str | None
    translated: bool
    note: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


def translate_offline(text: str) -> PageTranslation:
    """Pass the source text through, clearly labelled as untranslated."""
    body = text if text.strip() else ""
    return PageTranslation(
        legal_english=body,
        plain_english=body,
        provider="offline",
        model=None,
        translated=False,
        note=OFFLINE_NOTE,
    )
