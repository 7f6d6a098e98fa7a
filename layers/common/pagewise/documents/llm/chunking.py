"""Token estimates without a tokenizer, and cutting text and pages into pieces that fit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def estimate_tokens(text: str) -> int:
    """A conservative token estimate without a tokenizer: UTF-8 bytes / 3, rounded up.

    English runs about 4 characters (bytes) per token, so this overestimates it by a third;
    accented Latin text has 2-byte letters and fewer characters per token; CJK is 3 bytes and
    about one token per character. Overestimating only makes chunks smaller, never too big.
    """
    return math.ceil(len(text.encode("utf-8")) / 3)


_SEPARATORS = ("\n\n", "\n", ". ", " ")


def split_text(text: str, max_tokens: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_tokens`` (estimated), at paragraph, line,
    sentence or word boundaries where possible, by bytes as a last resort. The pieces joined
    give back ``text``, except for runs of whitespace that fell between two pieces."""
    return [piece for piece in _split(text, max_tokens, _SEPARATORS) if piece.strip()]


def _split(text: str, max_tokens: int, separators: tuple[str, ...]) -> list[str]:
    if estimate_tokens(text) <= max_tokens:
        return [text]
    for index, separator in enumerate(separators):
        parts = text.split(separator)
        if len(parts) == 1:
            continue
        # Each unit keeps its separator; a unit too big is split at the finer separators only.
        units = [part + separator for part in parts[:-1]] + [parts[-1]]
        finer = separators[index + 1 :]
        pieces: list[str] = []
        current = ""
        for unit in units:
            if estimate_tokens(current + unit) <= max_tokens:
                current += unit
                continue
            if current:
                pieces.append(current)
            if estimate_tokens(unit) <= max_tokens:
                current = unit
            else:
                pieces.extend(_split(unit, max_tokens, finer))
                current = ""
        if current:
            pieces.append(current)
        return pieces
    # One unbroken run of characters: cut by bytes (never inside a UTF-8 sequence).
    data = text.encode("utf-8")
    step = max(1, max_tokens * 3)
    return [
        data[start : start + step].decode("utf-8", errors="ignore")
        for start in range(0, len(data), step)
    ]


@dataclass(frozen=True)
class Chunk:
    first_page: int
    last_page: int
    text: str

    @property
    def pages(self) -> str:
        if self.first_page == self.last_page:
            return f"page {self.first_page}"
        return f"pages {self.first_page}-{self.last_page}"


def chunk_pages(pages: Sequence[tuple[int, str]], max_tokens: int) -> list[Chunk]:
    """Pack consecutive pages (each headed ``[Page N]``) into chunks of at most ``max_tokens``;
    a page too long for one chunk is split across several."""
    chunks: list[Chunk] = []
    first = last = 0
    current = ""
    for number, text in pages:
        for piece in split_text(text, max(1, max_tokens - 10)):
            segment = f"[Page {number}]\n{piece}"
            candidate = f"{current}\n\n{segment}" if current else segment
            if current and estimate_tokens(candidate) > max_tokens:
                chunks.append(Chunk(first, last, current))
                current, first = segment, number
            else:
                current = candidate
                first = first or number
            last = number
    if current:
        chunks.append(Chunk(first, last, current))
    return chunks
