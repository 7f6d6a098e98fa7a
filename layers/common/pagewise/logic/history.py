"""An execution's history as a timeline: one entry per state entered, with its timing,
attempts, retries and error; what an operator reads in the Step Functions console.

`get_execution_history` returns events (`TaskStateEntered`, `TaskScheduled`, `TaskFailed`,
`MapIterationStarted`, ...) in the order they happened. The iterations of a Map run in
parallel, so their events interleave: an event is attributed to its state by following
`previousEventId` (each event names the one it follows in its own thread), never by its
position in the list. States inside a Map iteration are labelled by the page their input
names (`OcrPage[page 2]`), or by the iteration's index when the input names none
(`OcrPage[1]`).

Pure: events in, a timeline out. No AWS calls here (see pagewise.data.workflow).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A cause is often a Lambda error as JSON with a stack trace: keep its message, this long.
MAX_CAUSE_CHARS = 1000

# Events that end one attempt of a task in failure (its Retry may start another).
_ATTEMPT_FAILED_SUFFIXES = ("Failed", "TimedOut")
_STRUCTURAL_FAILURES = {
    "MapIterationFailed",
    "MapStateFailed",
    "MapRunFailed",
    "ParallelStateFailed",
    "ExecutionFailed",
    "ExecutionTimedOut",
}
_ATTEMPT_SUCCEEDED = {"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"}
_EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


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

    @property
    def duration_ms(self) -> int | None:
        return _millis(self.started_at, self.stopped_at)


@dataclass
class _Iteration:
    map_run: _Run
    index: int
    parent: _Iteration | None
    page: int | None = None
    last_failure: tuple[str, str | None] | None = None


@dataclass
class _Run:
    """A StateRun being built, with what the build needs to know."""

    view: StateRun
    iteration: _Iteration | None
    event_id: int
    scheduled: int = 0
    pending_failure: tuple[str, str | None] | None = None  # the last attempt's failure
    failed: bool = False  # a Map or Parallel state that failed as a whole
    child_failure: tuple[str, str | None] | None = None  # the failure of an iteration


def _millis(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's `...EventDetails` block (every event type has at most one)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


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


def _page_of(state_input: Any) -> int | None:
    if not isinstance(state_input, str):
        return None
    try:
        parsed = json.loads(state_input)
    except ValueError:
        return None
    page = parsed.get("page") if isinstance(parsed, dict) else None
    return page if isinstance(page, int) and not isinstance(page, bool) else None


def _label(name: str, iteration: _Iteration | None) -> str:
    if iteration is None:
        return name
    if iteration.page is not None:
        return f"{name}[page {iteration.page}]"
    return f"{name}[{iteration.index}]"


def _enclosing_map(run: _Run | None, iteration: _Iteration | None) -> _Run | None:
    """The Map an event belongs to: the Map itself, or the one whose iteration it comes from."""
    if run is not None and run.view.type == "Map" and run.view.exited_at is None:
        inner = iteration.map_run if iteration is not None else None
        if inner is None or inner.view.depth < run.view.depth:
            return run
    return iteration.map_run if iteration is not None else run


def _open_parallel(runs: list[_Run]) -> _Run | None:
    # Parallel branches have no iteration events: the latest Parallel state still open.
    return next(
        (r for r in reversed(runs) if r.view.type == "Parallel" and r.view.exited_at is None),
        None,
    )


@dataclass
class _Event:
    """One history event, with the thread (run, iteration) of the event it follows."""

    id: int
    kind: str
    at: datetime
    details: dict[str, Any]
    run: _Run | None
    iteration: _Iteration | None


@dataclass
class _Timeline:
    """The timeline being built: every state entered so far, and the execution's own state."""

    runs: list[_Run] = field(default_factory=list)
    status: str = "RUNNING"
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    error: tuple[str, str | None] | None = None


# Each family of events moves the thread on: the (run, iteration) the next event follows.
_Thread = tuple[_Run | None, _Iteration | None]


def _state_entered(timeline: _Timeline, event: _Event) -> _Thread:
    iteration = event.iteration
    name = str(event.details.get("name", "?"))
    page = _page_of(event.details.get("input"))
    if iteration is not None and iteration.page is None and page is not None:
        iteration.page = page
    depth = iteration.map_run.view.depth + 1 if iteration is not None else 0
    run = _Run(
        view=StateRun(
            state=_label(name, iteration),
            name=name,
            type=event.kind.removesuffix("StateEntered"),
            depth=depth,
            entered_at=event.at,
            page=iteration.page if iteration is not None else page,
            iteration=iteration.index if iteration is not None else None,
        ),
        iteration=iteration,
        event_id=event.id,
    )
    timeline.runs.append(run)
    return run, iteration


def _state_exited(timeline: _Timeline, event: _Event) -> _Thread:
    run, iteration = event.run, event.iteration
    name = str(event.details.get("name", ""))
    if event.kind.startswith("Map"):
        run = _enclosing_map(run, iteration)
    elif event.kind.startswith("Parallel"):
        run = _open_parallel(timeline.runs)
    if run is None or run.view.name != name or run.view.exited_at is not None:
        open_runs = [r for r in timeline.runs if r.view.name == name and r.view.exited_at is None]
        run = open_runs[-1] if open_runs else run
    if run is not None:
        run.view.exited_at = event.at
        iteration = run.iteration
    return run, iteration


def _iteration_started(timeline: _Timeline, event: _Event) -> _Thread:
    iteration = event.iteration
    map_run = _enclosing_map(event.run, iteration)
    if map_run is not None:
        iteration = _Iteration(
            map_run=map_run,
            index=int(event.details.get("index", 0)),
            parent=map_run.iteration,
        )
    return None, iteration


def _iteration_ended(timeline: _Timeline, event: _Event) -> _Thread:
    """MapIterationSucceeded, Failed or Aborted: back to the thread of the Map."""
    run, iteration = event.run, event.iteration
    index, map_name = int(event.details.get("index", -1)), event.details.get("name")
    found = iteration
    while found is not None and (
        found.index != index or (map_name and found.map_run.view.name != map_name)
    ):
        found = found.parent
    found = found or iteration
    if found is not None:
        run = found.map_run
        if event.kind == "MapIterationFailed" and run.child_failure is None:
            run.child_failure = found.last_failure
        iteration = found.parent
    return run, iteration


def _map_or_parallel(timeline: _Timeline, event: _Event) -> _Thread:
    """MapState... and ParallelState... (Started, Succeeded, Failed, Aborted)."""
    iteration = event.iteration
    maps = event.kind[0] == "M"
    run = _enclosing_map(event.run, iteration) if maps else _open_parallel(timeline.runs)
    if run is not None:
        iteration = run.iteration
        if event.kind.endswith(("Failed", "Aborted")):
            run.failed = True
    return run, iteration


def _execution(timeline: _Timeline, event: _Event) -> _Thread:
    run, kind, details = event.run, event.kind, event.details
    if kind == "ExecutionStarted":
        timeline.started_at = event.at
    elif kind in _EXECUTION_ENDS:
        timeline.status = _EXECUTION_ENDS[kind]
        timeline.stopped_at = event.at
        if details.get("error") or details.get("cause"):
            timeline.error = (
                str(details.get("error") or kind),
                short_cause(details.get("cause")),
            )
            if run is not None and run.view.type == "Fail" and run.view.error is None:
                run.view.error, run.view.cause = timeline.error
    return run, event.iteration


def _attempt(timeline: _Timeline, event: _Event) -> _Thread:
    """Task events (Scheduled, Started, Succeeded, Failed, TimedOut, ...): one attempt."""
    run, iteration, kind = event.run, event.iteration, event.kind
    if run is None:
        return run, iteration
    if kind.endswith("Scheduled"):
        run.scheduled += 1
        if run.pending_failure is not None and run.scheduled > 1:
            run.view.retry_errors.append(run.pending_failure[0])
        run.pending_failure = None
    elif kind in _ATTEMPT_SUCCEEDED:
        run.pending_failure = None
    elif kind.endswith(_ATTEMPT_FAILED_SUFFIXES) and kind not in _STRUCTURAL_FAILURES:
        failure = (str(event.details.get("error") or kind), short_cause(event.details.get("cause")))
        run.pending_failure = failure
        scope = iteration
        while scope is not None:
            scope.last_failure = failure
            scope = scope.parent
    return run, iteration


_FAMILIES: dict[str, Callable[[_Timeline, _Event], _Thread]] = {
    "state_entered": _state_entered,
    "state_exited": _state_exited,
    "iteration_started": _iteration_started,
    "iteration_ended": _iteration_ended,
    "map_or_parallel": _map_or_parallel,
    "execution": _execution,
    "attempt": _attempt,
}


def _family(kind: str) -> str:
    """Which of _FAMILIES handles an event type (tested in this order)."""
    if kind.endswith("StateEntered"):
        return "state_entered"
    if kind.endswith("StateExited"):
        return "state_exited"
    if kind == "MapIterationStarted":
        return "iteration_started"
    if kind.startswith("MapIteration"):
        return "iteration_ended"
    if kind.startswith(("MapState", "ParallelState")):
        return "map_or_parallel"
    if kind.startswith("Execution"):
        return "execution"
    return "attempt"


def execution_timeline(events: Iterable[Mapping[str, Any]]) -> ExecutionTimeline:
    """The per-state timeline of one execution's history events (all pages of them)."""
    ordered = sorted(events, key=lambda event: int(event["id"]))
    context: dict[int, _Thread] = {}
    timeline = _Timeline()
    last: _Thread = (None, None)
    for raw in ordered:
        previous = int(raw.get("previousEventId") or 0)
        # An unknown previous event (a history cut short): the last event's thread.
        run, iteration = (None, None) if previous == 0 else context.get(previous, last)
        event = _Event(
            id=int(raw["id"]),
            kind=str(raw["type"]),
            at=_timestamp(raw["timestamp"]),
            details=_details(raw),
            run=run,
            iteration=iteration,
        )
        last = context[event.id] = _FAMILIES[_family(event.kind)](timeline, event)

    for run in timeline.runs:
        _finish(run, timeline.status)
    error = timeline.error
    return ExecutionTimeline(
        status=timeline.status,
        started_at=timeline.started_at,
        stopped_at=timeline.stopped_at,
        error=error[0] if error else None,
        cause=error[1] if error else None,
        states=[run.view for run in timeline.runs],
    )


def _finish(run: _Run, execution_status: str) -> None:
    view = run.view
    view.attempts = max(run.scheduled, 1)
    enclosing = run.iteration.map_run if run.iteration is not None else None
    # Nothing more will happen to a state that has not exited: the execution ended, or the
    # Map around it failed or moved on (a sibling iteration failed it).
    settled = (
        view.exited_at is not None
        or execution_status != "RUNNING"
        or (enclosing is not None and (enclosing.failed or enclosing.view.exited_at is not None))
    )
    failure = run.pending_failure
    if failure is None and (run.failed or view.type == "Fail"):
        failure = run.child_failure
        if failure is None and run.iteration is not None and view.type == "Fail":
            failure = run.iteration.last_failure
    if view.error is None and failure is not None:
        view.error, view.cause = failure
    if run.failed or view.type == "Fail" or (run.pending_failure is not None and settled):
        view.status = "failed"
    elif view.exited_at is not None:
        view.status = "succeeded"
    elif not settled:
        # Still at work; with an error, its last attempt failed and a retry (or a Catch) is next.
        view.status = "running"
    else:
        view.status = "aborted"
