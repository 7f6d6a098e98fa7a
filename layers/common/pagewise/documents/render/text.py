"""Text made safe for the PDF: cleaned of control characters, escaped for reportlab's
markup, and cut into blocks small enough to lay out quickly."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

# Blocks longer than this are cut before they become Paragraphs: reportlab re-wraps the rest
# of a paragraph at every page split, so one 30,000-character paragraph costs far more than ten
# of 3,000; and in the bilingual table it bounds the height of a row.
MAX_BLOCK_CHARS = 3000
# C0 controls other than tab/newline, DEL, and lone surrogates: not text, and some of them make
# reportlab or the PDF viewer choke.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _NOT_TEXT.sub("", text)


def markup(text: str) -> str:
    """Escape text for reportlab's paragraph markup (``&``, ``<``, ``>``), keeping newlines."""
    return escape(clean_text(text)).replace("\n", "<br/>")


def cut_block(block: str, limit: int = MAX_BLOCK_CHARS) -> list[str]:
    """Cut a block into pieces of at most ``limit`` characters: at the last line break in the
    second half of the window, else the last space, else (an unbroken token) at the limit."""
    pieces = []
    while len(block) > limit:
        cut = block.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = block.rfind(" ", limit // 2, limit)
        if cut < 0:
            pieces.append(block[:limit])
            block = block[limit:]
        else:
            pieces.append(block[:cut])
            block = block[cut + 1 :]
    pieces.append(block)
    return [p for p in pieces if p.strip()]


def paragraph_blocks(text: str) -> list[list[str]]:
    """Blank-line-separated paragraphs of ``text``, each cut into pieces (see :func:`cut_block`)."""
    blocks = re.split(r"\n[ \t]*\n", clean_text(text))
    return [pieces for pieces in (cut_block(b.strip("\n")) for b in blocks) if pieces]


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
