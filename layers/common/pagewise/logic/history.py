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

from collections.abc import Iterable, Mapping
from typing import Any

from pagewise.logic.history_events import Progress, Run, Thread, follow
from pagewise.logic.timeline import ExecutionTimeline


def execution_timeline(events: Iterable[Mapping[str, Any]]) -> ExecutionTimeline:
    """The per-state timeline of one execution's history events (all pages of them)."""
    ordered = sorted(events, key=lambda event: int(event["id"]))
    context: dict[int, Thread] = {}
    progress = Progress()
    last: Thread = (None, None)
    for raw in ordered:
        previous = int(raw.get("previousEventId") or 0)
        # An unknown previous event (a history cut short): the last event's thread.
        thread: Thread = (None, None) if previous == 0 else context.get(previous, last)
        last = context[int(raw["id"])] = follow(progress, raw, thread)

    for run in progress.runs:
        _finish(run, progress.status)
    error = progress.error
    return ExecutionTimeline(
        status=progress.status,
        started_at=progress.started_at,
        stopped_at=progress.stopped_at,
        error=error[0] if error else None,
        cause=error[1] if error else None,
        states=[run.view for run in progress.runs],
    )


def _finish(run: Run, execution_status: str) -> None:
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
