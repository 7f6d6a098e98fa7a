"""Output for people: times, durations, sizes, the progress bar and messages on stderr."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

BAR_WIDTH = 24


def parse_time(value: Any) -> datetime | None:
    """An API timestamp as an aware UTC datetime (one without a zone is UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_when(value: Any) -> str:
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def format_duration(ms: int | float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


def format_size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def page_counts(details: Mapping[str, Any]) -> tuple[int, int, int | None]:
    return (
        int(details.get("current_page") or 0),
        int(details.get("pages_translated") or 0),
        details.get("total_pages"),
    )


class Progress:
    """A one-line progress bar on a terminal (redrawn with \\r), one line per change otherwise."""

    def __init__(self, stream: TextIO, started: float, tty: bool | None = None) -> None:
        self.stream = stream
        self.started = started
        if tty is None:
            tty = stream.isatty() and os.environ.get("TERM") != "dumb"
        self.tty = tty
        self._last: tuple[Any, ...] | None = None
        self._width = 0

    def line(self, details: Mapping[str, Any]) -> str:
        status = str(details.get("processing_status", "?"))
        read, translated, total = page_counts(details)
        # Reading and translating the pages fill 90% of the bar; the summary and the PDF
        # (summarising, rendering) the rest, so a full bar means the job is done.
        if status == "completed":
            fraction = 1.0
        elif total:
            fraction = min(0.9, 0.9 * (read + translated) / (2 * total))
        else:
            fraction = 0.0
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        of = str(total) if total else "?"
        elapsed = time.monotonic() - self.started
        return f"[{bar}] read {read}/{of}, translated {translated}/{of}  {status}  {elapsed:5.1f}s"

    def update(self, details: Mapping[str, Any]) -> None:
        key = (details.get("processing_status"), *page_counts(details))
        if self.tty:
            # Never wider than the terminal: a wrapped line cannot be redrawn with \r.
            text = self.line(details)[: shutil.get_terminal_size().columns - 1]
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        elif key != self._last:
            self.stream.write(self.line(details) + "\n")
        self._last = key
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
