"""Which language a page's text is in: a stop-word vote, dependency-free.

Enough to pick the Apertium pair and to label pages; the languages are those Pagewise ships
Tesseract packs for. Returns ISO 639-1 codes, or None when the text is too short or no
language clearly wins.
"""

from __future__ import annotations

import re


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words("the of and to in that is for it with as was on be by this are or from at which"),
    "es": _words(
        "el la de que y en los del se las por un para con una su al lo como más pero sus "
        "le ha me si sin sobre este ya entre cuando todo esta ser son dos también es cada "
        "dentro hasta desde donde muy ni partes dicho dicha mismo cual cuyo"
    ),
    "fr": _words(
        "le la les de des et est un une du en que qui dans pour pas sur au avec ce ne se "
        "par sont cette aux ont"
    ),
    "de": _words(
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
        "auch es an werden aus er hat dass sie nach wird bei"
    ),
    "it": _words(
        "il di che la e per un in del della non sono gli le una si con da al dei nel alla "
        "questo anche come"
    ),
    "pt": _words(
        "o a de que e do da em um para com não uma os no se na por mais as dos como mas "
        "ao ele das à seu sua ou quando"
    ),
    "ca": _words(
        "el la de i que els les en per amb del un una no és al als com més però seu seva "
        "aquest aquesta amb pel dels fins també seus seves aquests"
    ),
}
_LANGUAGES_OF: dict[str, list[str]] = {}
for _language, _stop_words in _STOP_WORDS.items():
    for _word in _stop_words:
        _LANGUAGES_OF.setdefault(_word, []).append(_language)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_MIN_HITS = 5
# The winner needs this many times the runner-up's hits: Romance languages share many words.
_MARGIN = 1.3


def detect_language(text: str) -> str | None:
    words = [word.lower() for word in _WORD.findall(text[:20_000])]
    hits = dict.fromkeys(_STOP_WORDS, 0)
    scores = dict.fromkeys(_STOP_WORDS, 0.0)
    for word in words:
        languages = _LANGUAGES_OF.get(word)
        if languages:
            # A word shared by Spanish and Catalan says less than one only Spanish uses.
            for language in languages:
                hits[language] += 1
                scores[language] += 1 / len(languages)
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best, runner_up = ranked[0], ranked[1]
    if hits[best] < _MIN_HITS or scores[best] < scores[runner_up] * _MARGIN:
        return None
    return best
