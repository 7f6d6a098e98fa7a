"""An execution's timeline, as the API shows it: one StateRun per state entered, with its
timing, attempts, retries and error (built from the history by pagewise.logic.history)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

# A cause is often a Lambda error as JSON with a stack trace: keep its message, this long.
MAX_CAUSE_CHARS = 1000


@dataclass
class StateRun:
    """One entry of a state (a Map's iterations each enter their states once)."""

    state: str  # the label: "Prepare", "OcrPage[page 2]", "OcrPage[3]"
    name: str  # the state's name in the definition: "OcrPage"
    type: str  # Task, Map, Fail, Pass, Choice, Wait, Succeed, Parallel
    depth: int  # 0 at the top level, 1 inside a Map iteration, ...
    entered_at: datetime
    page: int | None = None
    iteration: int | None = None
    exited_at: datetime | None = None
    status: str = "running"  # running | succeeded | failed | aborted
    attempts: int = 1
    retry_errors: list[str] = field(default_factory=list)  # what each retried attempt hit
    # Why it failed (caught by a Catch or not); on a state still running, why its last
    # attempt failed (a retry or a Catch comes next).
    error: str | None = None
    cause: str | None = None

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    @property
    def duration_ms(self) -> int | None:
        return _millis(self.entered_at, self.exited_at)


@dataclass
class ExecutionTimeline:
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    started_at: datetime | None
    stopped_at: datetime | None
    error: str | None
    cause: str | None
    states: list[StateRun]
    execution_arn: str | None = None

    @classmethod
    def pending(cls) -> ExecutionTimeline:
        """A job's timeline before its execution starts: PENDING, nothing run."""
        return cls(
            status="PENDING", started_at=None, stopped_at=None, error=None, cause=None, states=[]
        )

    @property
    def duration_ms(self) -> int | None:
        return _millis(self.started_at, self.stopped_at)


def _millis(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def short_cause(cause: str | None) -> str | None:
    """A cause a person can read: a Lambda error's message without its stack trace."""
    if not cause:
        return None
    text = cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        text = str(parsed["errorMessage"])
    if len(text) > MAX_CAUSE_CHARS:
        text = text[: MAX_CAUSE_CHARS - 1] + "…"
    return text
