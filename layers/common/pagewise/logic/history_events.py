"""How each family of history events moves the timeline being built (pagewise.logic.history).

An event follows one thread, the (run, iteration) of the event it names as previous; each
family's function applies the event and returns the thread the events after it follow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pagewise.logic.timeline import StateRun, short_cause

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
class Iteration:
    map_run: Run
    index: int
    parent: Iteration | None
    page: int | None = None
    last_failure: tuple[str, str | None] | None = None


@dataclass
class Run:
    """A StateRun being built, with what the build needs to know."""

    view: StateRun
    iteration: Iteration | None
    event_id: int
    scheduled: int = 0
    pending_failure: tuple[str, str | None] | None = None  # the last attempt's failure
    failed: bool = False  # a Map or Parallel state that failed as a whole
    child_failure: tuple[str, str | None] | None = None  # the failure of an iteration


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


def _page_of(state_input: Any) -> int | None:
    if not isinstance(state_input, str):
        return None
    try:
        parsed = json.loads(state_input)
    except ValueError:
        return None
    page = parsed.get("page") if isinstance(parsed, dict) else None
    return page if isinstance(page, int) and not isinstance(page, bool) else None


def _label(name: str, iteration: Iteration | None) -> str:
    if iteration is None:
        return name
    if iteration.page is not None:
        return f"{name}[page {iteration.page}]"
    return f"{name}[{iteration.index}]"


def _enclosing_map(run: Run | None, iteration: Iteration | None) -> Run | None:
    """The Map an event belongs to: the Map itself, or the one whose iteration it comes from."""
    if run is not None and run.view.type == "Map" and run.view.exited_at is None:
        inner = iteration.map_run if iteration is not None else None
        if inner is None or inner.view.depth < run.view.depth:
            return run
    return iteration.map_run if iteration is not None else run


def _open_parallel(runs: list[Run]) -> Run | None:
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
    run: Run | None
    iteration: Iteration | None


@dataclass
class Progress:
    """The timeline being built: every state entered so far, and the execution's own state."""

    runs: list[Run] = field(default_factory=list)
    status: str = "RUNNING"
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    error: tuple[str, str | None] | None = None


# Each family of events moves the thread on: the (run, iteration) the next event follows.
Thread = tuple[Run | None, Iteration | None]


def _state_entered(timeline: Progress, event: _Event) -> Thread:
    iteration = event.iteration
    name = str(event.details.get("name", "?"))
    page = _page_of(event.details.get("input"))
    if iteration is not None and iteration.page is None and page is not None:
        iteration.page = page
    depth = iteration.map_run.view.depth + 1 if iteration is not None else 0
    run = Run(
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


def _state_exited(timeline: Progress, event: _Event) -> Thread:
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


def _iteration_started(timeline: Progress, event: _Event) -> Thread:
    iteration = event.iteration
    map_run = _enclosing_map(event.run, iteration)
    if map_run is not None:
        iteration = Iteration(
            map_run=map_run,
            index=int(event.details.get("index", 0)),
            parent=map_run.iteration,
        )
    return None, iteration


def _iteration_ended(timeline: Progress, event: _Event) -> Thread:
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


def _map_or_parallel(timeline: Progress, event: _Event) -> Thread:
    """MapState... and ParallelState... (Started, Succeeded, Failed, Aborted)."""
    iteration = event.iteration
    maps = event.kind[0] == "M"
    run = _enclosing_map(event.run, iteration) if maps else _open_parallel(timeline.runs)
    if run is not None:
        iteration = run.iteration
        if event.kind.endswith(("Failed", "Aborted")):
            run.failed = True
    return run, iteration


def _execution(timeline: Progress, event: _Event) -> Thread:
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


def _attempt(timeline: Progress, event: _Event) -> Thread:
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


_FAMILIES: dict[str, Callable[[Progress, _Event], Thread]] = {
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


def follow(progress: Progress, raw: Mapping[str, Any], thread: Thread) -> Thread:
    """Apply one history event, found on ``thread``; the thread the events after it follow."""
    run, iteration = thread
    event = _Event(
        id=int(raw["id"]),
        kind=str(raw["type"]),
        at=_timestamp(raw["timestamp"]),
        details=_details(raw),
        run=run,
        iteration=iteration,
    )
    return _FAMILIES[_family(event.kind)](progress, event)
