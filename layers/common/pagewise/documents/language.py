"""The language of a page's text, and the Tesseract languages to read a page with.

A small stop-word detector for the languages we ship Tesseract packs for (English, Spanish,
French, German, Italian, Portuguese, Catalan): dependency-free, microseconds per page, and
accurate on anything paragraph-sized. A page is legal prose, so its commonest words (articles,
prepositions, conjunctions) name its language; short or foreign-script text gives ``None``
rather than a guess. Accents are folded before matching, so text OCR'd with the wrong
language pack (``día`` read as ``dia``) is still recognised. General-purpose detectors
(``langdetect``, ``lingua``) cover far more languages, but they bring megabytes of profiles
into the Lambda layer for a choice among seven, and that choice only has to be as good as the
OCR it steers: on the test paragraphs this one is right for all seven languages, with or
without accents, and says ``None`` for Dutch and for OCR garbage.

Codes: ISO 639-1 (``es``) for what we detect and store, Tesseract's ISO 639-3 (``spa``) for
what we pass to Tesseract; :func:`to_iso1` and :func:`to_tesseract` map either way, and
:func:`to_iso3` names any language we know (Apertium's pairs too) by its ISO 639-3 code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# ISO 639-1 → Tesseract pack name, for the packs installed by scripts/install-system-deps.sh.
TESSERACT_CODES: dict[str, str] = {
    "en": "eng",
    "es": "spa",
    "fr": "fra",
    "de": "deu",
    "it": "ita",
    "pt": "por",
    "ca": "cat",
}
# Every pack we ship, English first: the default set a page's language is chosen from.
SHIPPED_TESSERACT_LANGUAGES = "+".join(TESSERACT_CODES.values())

# ISO 639-1 → ISO 639-3 for every language some part of Pagewise knows: the Tesseract packs
# above, and the languages that have (or may have) an Apertium pair into English (the offline
# gist). Serbo-Croatian's variants share Apertium's macrolanguage code.
_ISO1_TO_ISO3: dict[str, str] = {
    **TESSERACT_CODES,
    "gl": "glg",
    "eu": "eus",
    "eo": "epo",
    "is": "isl",
    "mk": "mkd",
    "sh": "hbs",
    "hr": "hbs",
    "sr": "hbs",
    "bs": "hbs",
}
_ISO3_TO_ISO1: dict[str, str] = {}
for _iso1, _iso3 in _ISO1_TO_ISO3.items():
    _ISO3_TO_ISO1.setdefault(_iso3, _iso1)  # the first wins: hbs → sh
# Other names for the same languages: ISO 639-2/B codes, Tesseract's own codes for
# Serbo-Croatian's variants, English and native names (matched with accents folded).
_ALIASES = {
    "fre": "fr",
    "ger": "de",
    "baq": "eu",
    "ice": "is",
    "mac": "mk",
    "hrv": "hr",
    "srp": "sr",
    "bos": "bs",
    "galician": "gl",
    "galego": "gl",
    "basque": "eu",
    "euskara": "eu",
    "esperanto": "eo",
    "icelandic": "is",
    "macedonian": "mk",
    "serbo-croatian": "sh",
    "croatian": "hr",
    "serbian": "sr",
    "bosnian": "bs",
    "english": "en",
    "spanish": "es",
    "espanol": "es",
    "castellano": "es",
    "castilian": "es",
    "french": "fr",
    "francais": "fr",
    "german": "de",
    "deutsch": "de",
    "italian": "it",
    "italiano": "it",
    "portuguese": "pt",
    "portugues": "pt",
    "catalan": "ca",
    "catala": "ca",
}
# Tesseract data names that are not languages.
_NOT_LANGUAGES = {"osd", "equ"}

# The commonest function words of each language. A word in several lists (``de``, ``la``,
# ``que``) counts 1/k towards each of its k languages, so the words unique to one language
# (``the``, ``los``, ``des``, ``und``, ``della``, ``pelo``, ``els``) decide. Words are matched as
# written first, then with accents folded (OCR with the wrong pack reads ``não`` as ``nao``).
_STOP_WORDS: dict[str, str] = {
    "en": """the of and to in is that for shall be by with on as or this which any such from
        at it an not have has was were will its their been under all may other these those
        would there than upon said hereby herein each are""",
    "es": """de la que el en y los del se las por un para con no una su al lo como más pero sus
        le ya o este esta entre cuando sin sobre también hasta hay donde desde todo nos durante
        dicho dicha cada según ante dentro otra mismo ambas cual cuyo dichos estos ser será
        han ha es son""",
    "fr": """le la les de des du et en un une est que qui dans pour par sur au aux pas ne ce
        cette il elle sont avec ou son sa ses leur nous vous être été ont dont lui entre sera
        tout toute après ainsi soit lors si mais plus ci présent présente""",
    "de": """der die das und in den von zu mit ist des dem nicht ein eine einer eines einem auf
        für im sich auch es an als wird werden sind oder bei nach aus zur zum wenn nur vom durch
        dass daß sowie über kann muss hat haben diese dieser dieses gegen ihre ihr sein seine""",
    "it": """di che il la e per un una del della dei delle degli nel nella nei con non si da dal
        dalla al alla alle ai gli lo le sono come anche più ma questo questa tra fra essere ha
        hanno suo sua loro quale qualsiasi ogni dopo entro è""",
    "pt": """de a o que e do da em um para com não uma os no se na por mais as dos como mas ao
        das seu sua ou quando nos já pelo pela pelos pelas até isso este esta entre sem mesmo
        aos seus quem nas ser foi sobre também são presente cada deste desta neste será é""",
    "ca": """de la el i que a en els les del per amb no un una és al com dels als seva seu seus
        seves hi ho han ha però aquest aquesta aquests aquestes qualsevol sobre entre fins
        cada durant també seran serà pel""",
}

# Below this many matched (weighted) stop words, or this share of all words, the text is too
# short or not in one of our languages: say "unknown" rather than guess.
_MIN_SCORE = 2.5
_MIN_SCORE_SHARE = 0.08
# Running text in any of these languages is 30-50% function words; the garbage OCR makes of
# an upside-down page has some short "words" that happen to match (``o``, ``a``, ``se``), at
# 10-20%. Below this share the text is not language at all.
_MIN_STOP_WORD_SHARE = 0.25
# The winner must beat the runner-up by this factor; closely related languages (Spanish,
# Catalan, Portuguese) share many function words, and a near tie is not a detection.
_MIN_MARGIN = 1.3
# Enough words to decide; the rest of a long page changes nothing and costs time.
_MAX_WORDS = 2000

_WORD = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    """Strip diacritics (``días`` → ``dias``); the text is already lower-case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _weights(key: Callable[[str], str]) -> dict[str, dict[str, float]]:
    languages_of: dict[str, set[str]] = {}
    for language, words in _STOP_WORDS.items():
        for word in words.split():
            languages_of.setdefault(key(word), set()).add(language)
    return {
        word: {language: 1.0 / len(languages) for language in languages}
        for word, languages in languages_of.items()
    }


_EXACT = _weights(str)
_FOLDED = _weights(_fold)


@dataclass(frozen=True)
class LanguageScores:
    """Per-language stop-word scores of a text, best first; how many words it had, and how
    many of them are function words of any language."""

    scores: tuple[tuple[str, float], ...]
    words: int
    stop_words: int


def language_scores(text: str) -> LanguageScores:
    """Weighted stop-word counts per language (ISO 639-1), best first."""
    totals = dict.fromkeys(_STOP_WORDS, 0.0)
    words = stop_words = 0
    for match in _WORD.finditer(text.casefold()):
        if words == _MAX_WORDS:
            break
        words += 1
        word = match.group()
        weights = _EXACT.get(word) or _FOLDED.get(_fold(word), {})
        stop_words += bool(weights)
        for language, weight in weights.items():
            totals[language] += weight
    ranked = tuple(sorted(totals.items(), key=lambda item: item[1], reverse=True))
    return LanguageScores(ranked, words, stop_words)


def detect_language(text: str | None) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or ``None`` when unsure or not ours."""
    if not text:
        return None
    result = language_scores(text)
    (best, best_score), (_, second_score) = result.scores[0], result.scores[1]
    if best_score < _MIN_SCORE or best_score < _MIN_SCORE_SHARE * result.words:
        return None
    if result.stop_words < _MIN_STOP_WORD_SHARE * result.words:
        return None
    if best_score < _MIN_MARGIN * second_score:
        return None
    return best


def _codes(code: str | None) -> list[str]:
    """The parts of a language code or Tesseract list, normalised to lower-case base codes."""
    if not code or not code.strip():
        return []
    parts = []
    for part in re.split(r"[+,;\s]+", _fold(code.strip().casefold())):
        if not part:
            continue
        base = part if part in _ALIASES else re.split(r"[-_]", part)[0]
        if base and base not in _NOT_LANGUAGES:
            parts.append(_ALIASES.get(base, base))
    return parts


def to_iso1(code: str | None) -> str | None:
    """ISO 639-1 for ``es``, ``spa``, ``es-ES``, ``Spanish`` or a Tesseract list (``spa+eng``).

    In a list the first language that is not English wins: English is the usual fallback.
    Codes we have no mapping for come back lower-cased as given (``nld``), ``None`` for empty.
    """
    parts = [_ISO3_TO_ISO1.get(part, part) for part in _codes(code)]
    if not parts:
        return None
    return next((part for part in parts if part != "en"), parts[0])


def to_iso3(code: str | None) -> str | None:
    """ISO 639-3 for ``es``, ``spa``, ``srp_latn``, ``es-ES``, ``Spanish`` or a Tesseract list
    (``spa+eng`` → ``spa``: the first language that is not English wins). Codes we have no
    mapping for come back lower-cased as given, ``None`` for empty."""
    parts = [_ISO1_TO_ISO3.get(part, part) for part in _codes(code)]
    if not parts:
        return None
    return next((part for part in parts if part != "eng"), parts[0])


def to_tesseract(code: str | None) -> str | None:
    """Tesseract's pack name for one language code (``es``/``spa``/``Spanish`` → ``spa``)."""
    iso1 = to_iso1(code)
    if iso1 is None:
        return None
    return TESSERACT_CODES.get(iso1, iso1)


def tesseract_languages(language: str | None, available: Iterable[str] | str) -> str | None:
    """The Tesseract ``-l`` value for a page in ``language``: that pack plus English.

    English rides along because legal documents quote English names, terms and headings;
    it costs 10-30% more time (Tesseract consults the second model only for words the first
    reads with low confidence). ``None`` when the language has no pack among ``available``.
    """
    packs = available.split("+") if isinstance(available, str) else list(available)
    pack = to_tesseract(language)
    if pack is None or pack not in packs:
        return None
    if pack == "eng" or "eng" not in packs:
        return pack
    return f"{pack}+eng"


def choose_ocr_languages(
    hints: Iterable[str | None],
    available: str = SHIPPED_TESSERACT_LANGUAGES,
    *,
    text: str | None = None,
) -> tuple[str, str | None]:
    """The Tesseract languages to OCR a page with, and the language they were chosen for.

    The first of ``hints`` (the job's ``source_language``, ``es`` or ``spa``, then weaker
    guesses) with a pack in ``available`` wins; else the language detected in ``text`` (a
    text layer or a first OCR pass); else every pack in ``available`` (measured on a 300-dpi
    A4 page: 20-80% slower than ``<language>+eng``, and a CER of up to 1.5% where the right
    pack reads it without error). Returns e.g. ``("spa+eng", "es")`` or
    ``("eng+spa+fra+...", None)``: the language is None exactly when no hint or text named one.
    """
    for language in (*hints, detect_language(text)):
        packs = tesseract_languages(language, available)
        if packs is not None:
            return packs, to_iso1(language)
    return available, None
