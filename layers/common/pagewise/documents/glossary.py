"""Glossaries: a tenant's source term → target term list, and finding the terms on a page.

Matching is deliberately simple and predictable, the same for the page's source text and for a
translation:

* both sides are *folded*: Unicode NFKD, combining marks dropped (accents), ``casefold()``
  (``Arrendatário`` → ``arrendatario``, ``Verträge`` → ``vertrage``, ``Straße`` → ``strasse``);
* text is cut into words (``\\w+``); a term of several words matches the same number of
  consecutive words;
* each word of the term is reduced to a *stem*: its longest ending from :data:`ENDINGS`
  (plural and gender endings of the shipped languages: es, pt, ca, it, fr, de, en) is removed
  when at least :data:`MIN_STEM` letters remain; a word of the text matches when it starts with
  that stem and is at most :data:`MAX_EXTRA` letters longer (``arrendatario`` matches
  ``arrendatarios`` and ``arrendataria``, not ``arrendamiento``; ``lessee`` matches
  ``lessees``; ``Mieter`` keeps its ending, so ``Miete`` does not match). Words of up to
  :data:`SHORT_WORD` letters must match exactly.

It finds inflections by ending, never by meaning: irregular forms (``Vertrag``/``Verträge``
works through the folded umlaut; ``man``/``men`` does not) and compounds may be missed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Limits of one glossary (the API answers 413 / 422 beyond them).
MAX_ENTRIES = 500
MAX_TERM_CHARS = 200
MAX_NOTE_CHARS = 500
MAX_BODY_BYTES = 256 * 1024
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

SHORT_WORD = 4
MIN_STEM = 5
MAX_EXTRA = 4
# Longest first. Removing one of these leaves the stem that inflected forms share.
ENDINGS: tuple[str, ...] = tuple(
    sorted(
        {
            # es / pt / ca / it: gender and number
            "os", "as", "es", "is", "us", "o", "a", "e", "i", "s",
            "oes", "aes", "ns",
            # fr
            "x", "aux", "eaux",
            # de
            "en", "er", "ern", "n", "nen", "innen", "in",
            # en
            "ies", "y",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip

_WORD = re.compile(r"\w+", re.UNICODE)


class GlossaryTooLarge(ValueError):
    """The glossary breaks a size limit (413)."""


class GlossaryInvalid(ValueError):
    """The body cannot be read as a glossary (422)."""


class GlossaryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str = Field(min_length=1, max_length=MAX_TERM_CHARS)
    target: str = Field(min_length=1, max_length=MAX_TERM_CHARS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)

    @field_validator("source", "target", "note", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("source")
    @classmethod
    def _has_a_word(cls, value: str) -> str:
        if not words(value):
            raise ValueError("the source term has no letters or digits")
        return value


class Glossary(BaseModel):
    """A glossary as stored and as a job records it (its snapshot)."""

    name: str
    source_language: str | None = Field(default=None, max_length=20)
    target_language: str = Field(default="en", max_length=20)
    entries: list[GlossaryEntry] = Field(default_factory=list)


# --- folding and matching -------------------------------------------------------------------


def fold(text: str) -> str:
    """Casefolded, accents dropped: the form both sides are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) for each word of ``text``; offsets are in ``text``."""
    return [(fold(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]


def stem(word: str) -> str:
    """``word`` (folded) without its inflectional ending, if enough remains."""
    if len(word) <= SHORT_WORD:
        return word
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def _word_matches(term_word: str, text_word: str) -> bool:
    if len(term_word) <= SHORT_WORD:
        return text_word == term_word
    base = stem(term_word)
    return text_word.startswith(base) and len(text_word) - len(base) <= MAX_EXTRA


@dataclass(frozen=True)
class TermMatch:
    entry: GlossaryEntry
    start: int
    end: int


def find_term(term: str, text: str) -> list[tuple[int, int]]:
    """Character spans of ``term`` (any inflection, see the module doc) in ``text``."""
    wanted = [w for w, _, _ in words(term)]
    if not wanted:
        return []
    found = words(text)
    spans: list[tuple[int, int]] = []
    size = len(wanted)
    index = 0
    while index + size <= len(found):
        window = found[index : index + size]
        if all(_word_matches(t, w) for t, (w, _, _) in zip(wanted, window, strict=True)):
            spans.append((window[0][1], window[-1][2]))
            index += size
        else:
            index += 1
    return spans


def entries_on_page(entries: Sequence[GlossaryEntry], text: str) -> list[GlossaryEntry]:
    """The entries whose source term occurs in ``text``, in glossary order."""
    return [entry for entry in entries if find_term(entry.source, text)]


def term_matches(entries: Sequence[GlossaryEntry], text: str) -> list[TermMatch]:
    """Non-overlapping occurrences of the entries' source terms; longer terms win."""
    candidates = [
        TermMatch(entry, start, end)
        for entry in sorted(entries, key=lambda e: len(words(e.source)), reverse=True)
        for start, end in find_term(entry.source, text)
    ]
    taken: list[TermMatch] = []
    for match in candidates:
        if all(match.end <= t.start or match.start >= t.end for t in taken):
            taken.append(match)
    return sorted(taken, key=lambda m: m.start)


def check_applied(
    entries: Sequence[GlossaryEntry], translation: str
) -> tuple[list[GlossaryEntry], list[GlossaryEntry]]:
    """(applied, missed): which entries' target terms the translation uses."""
    applied: list[GlossaryEntry] = []
    missed: list[GlossaryEntry] = []
    for entry in entries:
        (applied if find_term(entry.target, translation) else missed).append(entry)
    return applied, missed


def glossary_lines(entries: Sequence[GlossaryEntry]) -> str:
    """The entries as a prompt lists them: ``- source → target (note)``, one a line."""
    return "\n".join(
        f"- {e.source} → {e.target}" + (f" ({e.note})" if e.note else "") for e in entries
    )


def describe(entries: Iterable[GlossaryEntry]) -> list[dict[str, str]]:
    """Entries as the page result lists them."""
    return [{"source": e.source, "target": e.target} for e in entries]


# --- reading a body -------------------------------------------------------------------------

_CSV_HEADERS = {
    "source": ("source", "source term", "source_term", "term"),
    "target": ("target", "target term", "target_term", "translation"),
    "note": ("note", "notes", "comment"),
}


def parse_glossary(
    name: str,
    body: bytes,
    content_type: str,
    *,
    source_language: str | None = None,
    target_language: str | None = None,
) -> Glossary:
    """A glossary from a JSON or CSV body.

    JSON: ``{"source_language": "es", "target_language": "en", "entries": [{"source": ...,
    "target": ..., "note": ...}]}`` (or the list of entries alone). CSV (``text/csv``): a
    header row naming ``source``, ``target`` and optionally ``note`` (or two or three columns
    without a header, in that order); the language pair from the query. Raises
    :class:`GlossaryTooLarge` or :class:`GlossaryInvalid`.
    """
    if len(body) > MAX_BODY_BYTES:
        raise GlossaryTooLarge(f"the body is {len(body)} bytes; at most {MAX_BODY_BYTES}")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GlossaryInvalid("the body is not UTF-8 text") from error
    kind = content_type.split(";")[0].strip().lower()
    data: dict[str, object]
    if kind in ("text/csv", "application/csv", "text/plain"):
        data = {"entries": _csv_entries(text)}
    else:
        try:
            loaded = json.loads(text)
        except ValueError as error:
            raise GlossaryInvalid(f"the body is not valid JSON ({error})") from error
        data = {"entries": loaded} if isinstance(loaded, list) else loaded
        if not isinstance(data, dict):
            raise GlossaryInvalid("the JSON body must be an object or a list of entries")
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        raise GlossaryInvalid("the glossary has no entries")
    if len(entries) > MAX_ENTRIES:
        raise GlossaryTooLarge(f"the glossary has {len(entries)} entries; at most {MAX_ENTRIES}")
    for index, entry in enumerate(entries, start=1):
        if isinstance(entry, dict):
            for key in ("source", "target"):
                value = entry.get(key)
                if isinstance(value, str) and len(value.strip()) > MAX_TERM_CHARS:
                    raise GlossaryTooLarge(
                        f"entry {index}: the {key} term has {len(value.strip())} characters; "
                        f"at most {MAX_TERM_CHARS}"
                    )
    try:
        glossary = Glossary.model_validate(
            {
                "name": name,
                "source_language": data.get("source_language") or source_language,
                "target_language": data.get("target_language") or target_language or "en",
                "entries": entries,
            }
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise GlossaryInvalid(problems) from error
    seen: set[str] = set()
    for entry in glossary.entries:
        key = " ".join(w for w, _, _ in words(entry.source))
        if key in seen:
            raise GlossaryInvalid(f"the source term {entry.source!r} is listed twice")
        seen.add(key)
    return glossary


def _csv_entries(text: str) -> list[dict[str, str | None]]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().casefold() for cell in rows[0]]
    columns: dict[str, int] = {}
    for field, names in _CSV_HEADERS.items():
        for position, cell in enumerate(header):
            if cell in names:
                columns[field] = position
                break
    if "source" in columns and "target" in columns:
        rows = rows[1:]
    else:
        columns = {"source": 0, "target": 1, "note": 2}
    entries: list[dict[str, str | None]] = []
    for number, row in enumerate(rows, start=1):
        if len(row) <= max(columns["source"], columns["target"]):
            raise GlossaryInvalid(f"CSV row {number} has no target term")
        note_at = columns.get("note")
        note = row[note_at].strip() if note_at is not None and note_at < len(row) else ""
        entries.append(
            {
                "source": row[columns["source"]],
                "target": row[columns["target"]],
                "note": note or None,
            }
        )
    return entries
