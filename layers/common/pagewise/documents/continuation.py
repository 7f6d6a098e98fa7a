"""Sentences and paragraphs cut by a page break, found from the page texts alone.

Pages are translated in parallel, so the split is decided before any translation, from the
source texts: when page N ends in the middle of a sentence and page N+1 goes on with it, the
start of page N+1 up to the end of that sentence (its *continuation*) is translated with page
N, and page N+1's translation starts after it.

Page N ends mid-sentence when its last line of text (page furniture such as ``Página 1 de 2``
or a lone page number left out) does not end with ``.``, ``!``, ``?``, ``…``, ``:``, ``;`` or a
closing quote or bracket after one of those; a line ending with a hyphen is a word cut in two.
Page N+1 goes on with it unless its first line starts a new unit: a heading in capitals, a
numbered or lettered item (``2.``, ``b)``, ``IV.``), or an ordinal clause title (``Cuarta.``,
``Article 3``). The continuation ends at the first sentence end on page N+1 (at most
:data:`MAX_CONTINUATION_CHARS` characters; past that, or with no sentence end at all, nothing
is moved: a whole page is never carried). The same rule joins a paragraph the OCR cut at the
page break, since a paragraph ends with a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_CONTINUATION_CHARS = 1200

_FURNITURE = re.compile(
    r"^\s*(?:[-\u2013\u2014]\s*\d+\s*[-\u2013\u2014]|\d{1,4}|(?:p[áa]gina|page|p[àa]gina|seite|pagina|p\.)\s*"
    r"\d+(?:\s*(?:de|of|/|von|sur|di|sobre)\s*\d+)?)\s*$",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.!?…:;][\s\"'»\u201d\u2019)\]]*$")
_HYPHENATED = re.compile(r"\w[-\u2010­]$")
_NEW_UNIT = re.compile(
    r"^\s*(?:"
    r"[\dIVXLC]+[.)º°]|"  # 2.  IV.  3)
    r"[a-zA-Z]\)|"  # b)
    r"(?:art(?:[íi]culo|icle|ikel|icolo|igo)?|cl[áa]usula|clause|section|sección|§)\b|"
    r"(?:primer[ao]?|segund[ao]|tercer[ao]?|cuart[ao]|quint[ao]|sext[ao]|s[ée]ptim[ao]|"
    r"octav[ao]|noven[ao]|d[ée]cim[ao]|first|second|third|fourth|fifth|premi[èe]re?|"
    r"deuxi[èe]me|troisi[èe]me|erstens|zweitens)\s*[.:]"
    r")",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^[^a-zß-ÿ]*[A-ZÀ-Þ][^a-zß-ÿ]*$")
# A sentence ends at . ! ? … followed by a space, a line end or a closing quote; not after a
# lone capital or a common abbreviation ("Sr.", "Art. 5", "núm. 3").
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\bSr)(?<!\bSra)(?<!\bArt)(?<!\bart)(?<!\bnúm)"
                           r"(?<!\bNo)(?<!\bp)[.!?…][\"'»\u201d\u2019)\]]*(?=\s|$)")  # fmt: skip


@dataclass(frozen=True)
class PagePlan:
    """What one page's translation covers.

    ``continuation``: the text at the start of this page that ends a sentence begun on the
    previous page; it is translated with that page, not with this one. ``completion``: the
    text taken from the start of the next page to finish this page's last sentence.
    ``text``: what this page's translation covers (its own text without ``continuation``,
    with ``completion`` after it).
    """

    page: int
    text: str
    continuation: str = ""
    completion: str = ""

    @property
    def continues_previous(self) -> bool:
        return bool(self.continuation)


def _content_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not _FURNITURE.match(line)]


def ends_mid_sentence(text: str) -> bool:
    lines = _content_lines(text)
    return bool(lines) and not _TERMINAL.search(lines[-1].rstrip())


def starts_new_unit(text: str) -> bool:
    lines = _content_lines(text)
    if not lines:
        return True
    first = lines[0].strip()
    return bool(_NEW_UNIT.match(first)) or (len(first) > 3 and bool(_HEADING.match(first)))


def continuation_of(text: str) -> str:
    """The start of ``text`` up to its first sentence end (furniture lines before it left
    out), or "" when there is none within :data:`MAX_CONTINUATION_CHARS`."""
    lines = text.splitlines(keepends=True)
    skipped = 0
    for line in lines:
        if line.strip() and not _FURNITURE.match(line):
            break
        skipped += len(line)
    body = text[skipped:]
    match = _SENTENCE_END.search(body[: MAX_CONTINUATION_CHARS + 1])
    if match is None:
        return ""
    return text[: skipped + match.end()]


def join(head: str, tail: str) -> str:
    """``head`` followed by ``tail``, re-joining a word hyphenated across the break."""
    lines = _content_lines(head)
    end = head.rstrip()
    if lines and _HYPHENATED.search(lines[-1].rstrip()):
        # The last content line ends "arren-": drop the hyphen, no space.
        cut = end.rfind(lines[-1].rstrip()) + len(lines[-1].rstrip()) - 1
        return head[:cut] + tail.lstrip()
    return end + " " + " ".join(tail.split())


def plan_pages(texts: Sequence[str]) -> list[PagePlan]:
    """One :class:`PagePlan` per page (``texts`` in page order, page 1 first)."""
    moved = [""] * len(texts)
    for index in range(len(texts) - 1):
        here, after = texts[index], texts[index + 1]
        if not ends_mid_sentence(here) or starts_new_unit(after):
            continue
        continuation = continuation_of(after)
        if continuation and continuation.strip() != after.strip():
            moved[index + 1] = continuation
    plans: list[PagePlan] = []
    for index, text in enumerate(texts):
        own = text[len(moved[index]) :].lstrip() if moved[index] else text
        completion = moved[index + 1] if index + 1 < len(texts) else ""
        if completion:
            # The page furniture at the end ("Página 1 de 2") goes: the sentence runs on.
            kept = own.splitlines(keepends=True)
            while kept and (not kept[-1].strip() or _FURNITURE.match(kept[-1])):
                kept.pop()
            body = join("".join(kept), completion.strip())
        else:
            body = own
        plans.append(
            PagePlan(
                page=index + 1,
                text=body,
                continuation=moved[index].strip(),
                completion=" ".join(completion.split()),
            )
        )
    return plans
