"""In AWS the page Maps are Distributed: each page's events are in a child execution's
history. Workflow.history splices them back as Map iterations, so the per-state timeline
(GET /history, `pagewise trace`) still shows each page, its retries and its failure."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber
from pagewise.data.workflow import Workflow, splice_map_runs
from pagewise.logic.history import execution_timeline

from .test_history import THROTTLED, _event, _page

MAP_RUN = "arn:aws:states:us-east-1:1:mapRun:pagewise-pipeline/TranslatePages:abc"

# The parent as AWS records a Distributed Map: no page events, only the Map Run.
PARENT = [
    _event(1, 0, 0, "ExecutionStarted", input='{"job_id": "6b0b"}'),
    _event(2, 1, 1, "MapStateEntered", name="TranslatePages", input="{}"),
    _event(3, 2, 2, "MapStateStarted", length=2),
    _event(4, 3, 3, "MapRunStarted", mapRunArn=MAP_RUN),
    _event(5, 4, 900, "MapRunSucceeded"),
    _event(6, 5, 901, "MapStateSucceeded"),
    _event(7, 5, 902, "MapStateExited", name="TranslatePages", output="{}"),
    _event(8, 7, 903, "ExecutionSucceeded", output="{}"),
]


def _child(page: int, *, throttled_once: bool) -> list[dict[str, Any]]:
    events = [
        _event(1, 0, 10, "ExecutionStarted", input=_page(page)),
        _event(2, 1, 11, "TaskStateEntered", name="TranslatePage", input=_page(page)),
        _event(3, 2, 12, "TaskScheduled"),
        _event(4, 3, 13, "TaskStarted"),
    ]
    if throttled_once:
        events += [
            _event(5, 4, 100, "TaskFailed", error="LlmThrottled", cause=THROTTLED),
            _event(6, 5, 300, "TaskScheduled"),
            _event(7, 6, 301, "TaskStarted"),
        ]
    last = len(events)
    events += [
        _event(last + 1, last, 500, "TaskSucceeded", output="{}"),
        _event(last + 2, last + 1, 501, "TaskStateExited", name="TranslatePage", output="{}"),
        _event(last + 3, last + 2, 502, "ExecutionSucceeded", output="{}"),
    ]
    return events


def test_child_executions_show_as_the_pages_of_their_map() -> None:
    children = {MAP_RUN: [_child(1, throttled_once=False), _child(2, throttled_once=True)]}
    spliced = splice_map_runs(PARENT, lambda arn: children[arn])
    assert [event["id"] for event in spliced] == list(range(1, len(spliced) + 1))
    timeline = execution_timeline(spliced)
    assert timeline.status == "SUCCEEDED"
    states = {state.state: state for state in timeline.states}
    assert list(states) == ["TranslatePages", "TranslatePage[page 1]", "TranslatePage[page 2]"]
    assert states["TranslatePage[page 1]"].attempts == 1
    assert states["TranslatePage[page 2]"].attempts == 2
    assert states["TranslatePage[page 2]"].retry_errors == ["LlmThrottled"]
    assert all(state.status == "succeeded" for state in timeline.states)
    assert states["TranslatePage[page 2]"].depth == 1


def test_without_map_runs_the_history_is_unchanged() -> None:
    inline = [event for event in PARENT if not event["type"].startswith("MapRun")]
    spliced = splice_map_runs(inline, lambda arn: [])
    assert [event["type"] for event in spliced] == [event["type"] for event in inline]


def test_a_failed_child_fails_its_page_and_the_map() -> None:
    failing = [
        _event(1, 0, 10, "ExecutionStarted", input=_page(2)),
        _event(2, 1, 11, "TaskStateEntered", name="TranslatePage", input=_page(2)),
        _event(3, 2, 12, "TaskScheduled"),
        _event(4, 3, 13, "TaskStarted"),
        _event(5, 4, 100, "TaskFailed", error="LlmThrottled", cause=THROTTLED),
        _event(6, 5, 101, "TaskStateEntered", name="TranslatePageFailed", input=_page(2)),
        _event(7, 6, 102, "TaskScheduled"),
        _event(8, 7, 103, "TaskStarted"),
        _event(9, 8, 150, "TaskSucceeded", output="{}"),
        _event(10, 9, 151, "TaskStateExited", name="TranslatePageFailed", output="{}"),
        _event(11, 10, 152, "FailStateEntered", name="TranslatePageGaveup", input="{}"),
        _event(12, 11, 153, "ExecutionFailed", error="LlmThrottled", cause=THROTTLED),
    ]
    parent = [
        *PARENT[:4],
        _event(5, 4, 900, "MapRunFailed", error="States.ExceedToleratedFailureThreshold"),
        _event(6, 5, 901, "MapStateFailed"),
        _event(7, 6, 902, "ExecutionFailed", error="States.ExceedToleratedFailureThreshold"),
    ]
    spliced = splice_map_runs(parent, lambda arn: [_child(1, throttled_once=False), failing])
    timeline = execution_timeline(spliced)
    assert timeline.status == "FAILED"
    states = {state.state: state for state in timeline.states}
    assert states["TranslatePage[page 1]"].status == "succeeded"
    assert states["TranslatePage[page 2]"].status == "failed"
    assert states["TranslatePage[page 2]"].error == "LlmThrottled"
    assert states["TranslatePageGaveup[page 2]"].status == "failed"
    assert states["TranslatePages"].status == "failed"


def test_workflow_history_reads_the_children_or_goes_on_without_them() -> None:
    client = boto3.client(
        "stepfunctions",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    workflow = Workflow("arn:aws:states:us-east-1:1:stateMachine:pagewise-pipeline", client)
    parent_arn = "arn:aws:states:us-east-1:1:execution:pagewise-pipeline:6b0b"
    child_arn = "arn:aws:states:us-east-1:1:execution:pagewise-pipeline/TranslatePages:c1"
    history_call = {"includeExecutionData": True, "maxResults": 1000}
    with Stubber(client) as stub:
        stub.add_response(
            "get_execution_history",
            {"events": PARENT},
            {"executionArn": parent_arn, **history_call},
        )
        child = {
            "executionArn": child_arn,
            "stateMachineArn": MAP_RUN.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0],
            "name": "c1",
            "status": "SUCCEEDED",
            "startDate": PARENT[0]["timestamp"],
        }
        stub.add_response("list_executions", {"executions": [child]}, {"mapRunArn": MAP_RUN})
        stub.add_response(
            "get_execution_history",
            {"events": _child(1, throttled_once=True)},
            {"executionArn": child_arn, **history_call},
        )
        events = workflow.history(parent_arn)
        # The role may not read child executions: the job's own states still show.
        stub.add_response(
            "get_execution_history",
            {"events": PARENT},
            {"executionArn": parent_arn, **history_call},
        )
        stub.add_client_error("list_executions", "AccessDeniedException", http_status_code=400)
        without = workflow.history(parent_arn)
    assert events is not None and without is not None
    pages = [state.state for state in execution_timeline(events).states]
    assert pages == ["TranslatePages", "TranslatePage[page 1]"]
    assert [state.state for state in execution_timeline(without).states] == ["TranslatePages"]
