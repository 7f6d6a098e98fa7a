"""The execution timeline (pagewise.logic.history) from realistic Step Functions histories,
and Workflow.history's pagination (pagewise.data.workflow)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pagewise.data.workflow import Workflow
from pagewise.logic.history import execution_timeline
from pagewise.logic.timeline import MAX_CAUSE_CHARS, short_cause

T0 = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)
TRACE = ['  File "/opt/python/pagewise/logic/pipeline.py", line 88, in translate_page']


def _details_key(kind: str) -> str:
    if kind.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if kind.endswith("StateExited"):
        return "stateExitedEventDetails"
    return kind[0].lower() + kind[1:] + "EventDetails"


def _event(event_id: int, previous: int, ms: int, kind: str, **details: Any) -> dict[str, Any]:
    """One history event as boto3 returns it (the shapes of AWS and LocalStack alike)."""
    if kind.startswith("Task") and not kind.endswith(("StateEntered", "StateExited")):
        details = {"resourceType": "lambda", "resource": "invoke", **details}
    if kind == "TaskScheduled":
        details = {"region": "us-east-1", "parameters": '{"FunctionName": "fn"}', **details}
    event: dict[str, Any] = {
        "timestamp": T0 + timedelta(milliseconds=ms),
        "type": kind,
        "id": event_id,
        "previousEventId": previous,
    }
    if details:
        event[_details_key(kind)] = details
    return event


def _page(page: int) -> str:
    return json.dumps({"job_id": "6b0b0feb7d81b5b5601988f8", "page": page})


def _lambda_error(error_type: str, message: str) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": TRACE})


THROTTLED = _lambda_error("LlmThrottled", "llm_throttled: HTTP 429 for page 2, after 2 attempts")
UNAVAILABLE = _lambda_error("LlmUnavailable", "llm_unavailable: HTTP 500 for page 1 (2 attempts)")

# A 2-page job as LocalStack recorded it: both Maps' iterations interleave, TranslatePage of
# page 1 fails twice (500) and of page 2 once (429), each retried by the state machine.
SUCCEEDED_WITH_RETRIES = [
    _event(1, 0, 0, "ExecutionStarted", input='{"job_id": "6b0b0feb7d81b5b5601988f8"}'),
    _event(2, 0, 1, "TaskStateEntered", name="Prepare", input='{"job_id": "6b0b"}'),
    _event(3, 2, 33, "TaskScheduled"),
    _event(4, 3, 33, "TaskStarted"),
    _event(5, 4, 239, "TaskSucceeded"),
    _event(6, 5, 317, "TaskStateExited", name="Prepare"),
    _event(7, 6, 317, "MapStateEntered", name="OcrPages"),
    _event(8, 7, 357, "MapStateStarted", length=2),
    _event(9, 8, 358, "MapIterationStarted", name="OcrPages", index=0),
    _event(10, 9, 358, "TaskStateEntered", name="OcrPage", input=_page(1)),
    _event(11, 10, 359, "TaskScheduled"),
    _event(12, 11, 359, "TaskStarted"),
    _event(13, 8, 360, "MapIterationStarted", name="OcrPages", index=1),
    _event(14, 13, 362, "TaskStateEntered", name="OcrPage", input=_page(2)),
    _event(15, 14, 363, "TaskScheduled"),
    _event(16, 15, 363, "TaskStarted"),
    _event(17, 16, 533, "TaskSucceeded"),
    _event(18, 17, 575, "TaskStateExited", name="OcrPage"),
    _event(19, 18, 576, "MapIterationSucceeded", name="OcrPages", index=1),
    _event(20, 12, 593, "TaskSucceeded"),
    _event(21, 20, 631, "TaskStateExited", name="OcrPage"),
    _event(22, 21, 631, "MapIterationSucceeded", name="OcrPages", index=0),
    _event(23, 22, 631, "MapStateSucceeded"),
    _event(24, 22, 632, "MapStateExited", name="OcrPages"),
    _event(25, 24, 632, "MapStateEntered", name="TranslatePages"),
    _event(26, 25, 660, "MapStateStarted", length=2),
    _event(27, 26, 661, "MapIterationStarted", name="TranslatePages", index=0),
    _event(28, 27, 661, "TaskStateEntered", name="TranslatePage", input=_page(1)),
    _event(29, 28, 662, "TaskScheduled"),
    _event(30, 29, 662, "TaskStarted"),
    _event(31, 26, 666, "MapIterationStarted", name="TranslatePages", index=1),
    _event(32, 31, 667, "TaskStateEntered", name="TranslatePage", input=_page(2)),
    _event(33, 32, 667, "TaskScheduled"),
    _event(34, 33, 667, "TaskStarted"),
    _event(35, 34, 902, "TaskFailed", error="LlmThrottled", cause=THROTTLED),
    _event(36, 30, 914, "TaskFailed", error="LlmUnavailable", cause=UNAVAILABLE),
    _event(37, 36, 2531, "TaskScheduled"),
    _event(38, 37, 2531, "TaskStarted"),
    _event(39, 38, 2677, "TaskFailed", error="LlmUnavailable", cause=UNAVAILABLE),
    _event(40, 39, 4222, "TaskScheduled"),
    _event(41, 40, 4222, "TaskStarted"),
    _event(42, 41, 4369, "TaskSucceeded"),
    _event(43, 42, 4405, "TaskStateExited", name="TranslatePage"),
    _event(44, 43, 4406, "MapIterationSucceeded", name="TranslatePages", index=0),
    _event(45, 35, 4629, "TaskScheduled"),
    _event(46, 45, 4629, "TaskStarted"),
    _event(47, 46, 4754, "TaskSucceeded"),
    _event(48, 47, 4792, "TaskStateExited", name="TranslatePage"),
    _event(49, 48, 4793, "MapIterationSucceeded", name="TranslatePages", index=1),
    _event(50, 49, 4793, "MapStateSucceeded"),
    _event(51, 49, 4794, "MapStateExited", name="TranslatePages"),
    _event(52, 51, 4794, "TaskStateEntered", name="Summarise"),
    _event(53, 52, 4822, "TaskScheduled"),
    _event(54, 53, 4822, "TaskStarted"),
    _event(55, 54, 4956, "TaskSucceeded"),
    _event(56, 55, 4956, "TaskStateExited", name="Summarise"),
    _event(57, 56, 4956, "TaskStateEntered", name="Render"),
    _event(58, 57, 4981, "TaskScheduled"),
    _event(59, 58, 4981, "TaskStarted"),
    _event(60, 59, 5162, "TaskSucceeded"),
    _event(61, 60, 5213, "TaskStateExited", name="Render"),
    _event(62, 61, 5213, "TaskStateEntered", name="Finish"),
    _event(63, 62, 5243, "TaskScheduled"),
    _event(64, 63, 5243, "TaskStarted"),
    _event(65, 64, 5384, "TaskSucceeded"),
    _event(66, 65, 5425, "TaskStateExited", name="Finish"),
    _event(67, 66, 5425, "ExecutionSucceeded", output='{"status": "completed"}'),
]

PAGE_TOO_LARGE = _lambda_error("JobFailed", "page_too_large: Page 2 is 40000 x 40000 pixels")
# A 2-page job failing as AWS records it: page 2's OcrPage fails, its Catch runs
# OcrPageFailed and then the OcrPageGaveup Fail state; the failed iteration fails the Map,
# which aborts page 1's iteration; the Map's Catch runs MarkFailed, then JobFailed.
FAILED_IN_A_MAP = [
    _event(1, 0, 0, "ExecutionStarted", input='{"job_id": "J"}'),
    _event(2, 0, 5, "TaskStateEntered", name="Prepare"),
    _event(3, 2, 6, "TaskScheduled"),
    _event(4, 3, 7, "TaskStarted"),
    _event(5, 4, 400, "TaskSucceeded"),
    _event(6, 5, 401, "TaskStateExited", name="Prepare"),
    _event(7, 6, 402, "MapStateEntered", name="OcrPages"),
    _event(8, 7, 403, "MapStateStarted", length=2),
    _event(9, 8, 404, "MapIterationStarted", name="OcrPages", index=0),
    _event(10, 8, 404, "MapIterationStarted", name="OcrPages", index=1),
    _event(11, 9, 405, "TaskStateEntered", name="OcrPage", input=_page(1)),
    _event(12, 10, 405, "TaskStateEntered", name="OcrPage", input=_page(2)),
    _event(13, 11, 406, "TaskScheduled"),
    _event(14, 12, 406, "TaskScheduled"),
    _event(15, 13, 410, "TaskStarted"),
    _event(16, 14, 410, "TaskStarted"),
    _event(17, 16, 900, "TaskFailed", error="JobFailed", cause=PAGE_TOO_LARGE),
    _event(18, 17, 901, "TaskStateExited", name="OcrPage"),
    _event(19, 18, 901, "TaskStateEntered", name="OcrPageFailed"),
    _event(20, 19, 902, "TaskScheduled"),
    _event(21, 20, 903, "TaskStarted"),
    _event(22, 21, 1100, "TaskSucceeded"),
    _event(23, 22, 1101, "TaskStateExited", name="OcrPageFailed"),
    _event(24, 23, 1101, "FailStateEntered", name="OcrPageGaveup"),
    _event(25, 24, 1102, "MapIterationFailed", name="OcrPages", index=1),
    _event(26, 25, 1102, "MapIterationAborted", name="OcrPages", index=0),
    _event(27, 26, 1103, "MapStateFailed"),
    _event(28, 27, 1104, "MapStateExited", name="OcrPages"),
    _event(29, 28, 1104, "TaskStateEntered", name="MarkFailed"),
    _event(30, 29, 1105, "TaskScheduled"),
    _event(31, 30, 1106, "TaskStarted"),
    _event(32, 31, 1300, "TaskSucceeded"),
    _event(33, 32, 1301, "TaskStateExited", name="MarkFailed"),
    _event(34, 33, 1301, "FailStateEntered", name="JobFailed"),
    _event(
        35,
        34,
        1302,
        "ExecutionFailed",
        error="JobFailed",
        cause="The job failed; its error_code and error_message are in original_files.",
    ),
]


def _by_label(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {run.state: run for run in execution_timeline(events).states}


def test_a_job_with_interleaved_pages_and_retries_reads_as_a_timeline() -> None:
    timeline = execution_timeline(SUCCEEDED_WITH_RETRIES)

    assert timeline.status == "SUCCEEDED"
    assert timeline.started_at == T0
    assert timeline.duration_ms == 5425
    assert timeline.error is None
    assert [(run.state, run.depth) for run in timeline.states] == [
        ("Prepare", 0),
        ("OcrPages", 0),
        ("OcrPage[page 1]", 1),
        ("OcrPage[page 2]", 1),
        ("TranslatePages", 0),
        ("TranslatePage[page 1]", 1),
        ("TranslatePage[page 2]", 1),
        ("Summarise", 0),
        ("Render", 0),
        ("Finish", 0),
    ]
    assert all(run.status == "succeeded" for run in timeline.states)
    runs = {run.state: run for run in timeline.states}
    assert runs["Prepare"].duration_ms == 316
    assert (runs["Prepare"].attempts, runs["Prepare"].retries) == (1, 0)
    assert runs["OcrPages"].type == "Map" and runs["OcrPages"].duration_ms == 315
    # Page 2 finished first; each page keeps its own times although their events interleave.
    assert runs["OcrPage[page 2]"].duration_ms == 575 - 362
    assert runs["OcrPage[page 1]"].duration_ms == 631 - 358
    assert (runs["OcrPage[page 1]"].page, runs["OcrPage[page 1]"].iteration) == (1, 0)

    page1, page2 = runs["TranslatePage[page 1]"], runs["TranslatePage[page 2]"]
    assert (page1.attempts, page1.retries) == (3, 2)
    assert page1.retry_errors == ["LlmUnavailable", "LlmUnavailable"]
    assert (page2.attempts, page2.retries) == (2, 1)
    assert page2.retry_errors == ["LlmThrottled"]
    # Errors that a retry got past are not the state's error.
    assert page1.error is None and page2.error is None
    assert page1.duration_ms == 4405 - 661


def test_a_failure_caught_inside_a_map_names_the_page_and_its_error() -> None:
    timeline = execution_timeline(FAILED_IN_A_MAP)
    runs = {run.state: run for run in timeline.states}

    assert timeline.status == "FAILED"
    assert timeline.error == "JobFailed"
    assert list(runs) == [
        "Prepare",
        "OcrPages",
        "OcrPage[page 1]",
        "OcrPage[page 2]",
        "OcrPageFailed[page 2]",
        "OcrPageGaveup[page 2]",
        "MarkFailed",
        "JobFailed",
    ]
    failed = runs["OcrPage[page 2]"]
    assert failed.status == "failed"  # caught by its Catch: it exited, but failed
    assert failed.error == "JobFailed"
    # The Lambda's JSON cause is cut down to its message: no stack trace.
    assert failed.cause == "page_too_large: Page 2 is 40000 x 40000 pixels"
    assert failed.duration_ms == 901 - 405
    assert runs["OcrPageFailed[page 2]"].status == "succeeded"
    gave_up = runs["OcrPageGaveup[page 2]"]
    assert (gave_up.type, gave_up.status, gave_up.error) == ("Fail", "failed", "JobFailed")
    # The sibling iteration was aborted by the failed Map: never exited, never failed.
    aborted = runs["OcrPage[page 1]"]
    assert (aborted.status, aborted.exited_at, aborted.error) == ("aborted", None, None)
    ocr_map = runs["OcrPages"]
    assert ocr_map.status == "failed"
    assert ocr_map.cause == "page_too_large: Page 2 is 40000 x 40000 pixels"
    assert runs["MarkFailed"].status == "succeeded"
    job_failed = runs["JobFailed"]
    assert (job_failed.status, job_failed.error) == ("failed", "JobFailed")
    assert job_failed.cause is not None and job_failed.cause.startswith("The job failed")


def test_a_running_execution_shows_the_attempt_waiting_for_its_retry() -> None:
    events = [
        *SUCCEEDED_WITH_RETRIES[:26],  # through TranslatePages' MapStateStarted
        _event(27, 26, 661, "MapIterationStarted", name="TranslatePages", index=0),
        _event(28, 27, 661, "TaskStateEntered", name="TranslatePage", input=_page(1)),
        _event(29, 28, 662, "TaskScheduled"),
        _event(30, 29, 662, "TaskStarted"),
        _event(31, 30, 914, "TaskFailed", error="LlmUnavailable", cause=UNAVAILABLE),
    ]
    timeline = execution_timeline(events)
    runs = {run.state: run for run in timeline.states}

    assert timeline.status == "RUNNING"
    assert timeline.stopped_at is None and timeline.duration_ms is None
    waiting = runs["TranslatePage[page 1]"]
    assert waiting.status == "running"
    assert (waiting.attempts, waiting.retries, waiting.retry_errors) == (1, 0, [])
    assert waiting.error == "LlmUnavailable"  # why the last attempt failed
    assert waiting.exited_at is None and waiting.duration_ms is None
    assert runs["TranslatePages"].status == "running"
    assert runs["OcrPages"].status == "succeeded"


def test_map_items_that_name_no_page_are_labelled_by_index() -> None:
    events = [
        _event(1, 0, 0, "ExecutionStarted"),
        _event(2, 0, 1, "MapStateEntered", name="Fan", input='{"items": ["a", "b"]}'),
        _event(3, 2, 2, "MapStateStarted", length=2),
        _event(4, 3, 3, "MapIterationStarted", name="Fan", index=0),
        _event(5, 4, 3, "PassStateEntered", name="Item", input='"a"'),
        _event(6, 3, 4, "MapIterationStarted", name="Fan", index=1),
        _event(7, 6, 4, "PassStateEntered", name="Item", input='{"page": true}'),
        _event(8, 7, 5, "PassStateExited", name="Item"),
        _event(9, 8, 5, "MapIterationSucceeded", name="Fan", index=1),
        _event(10, 5, 6, "PassStateExited", name="Item"),
        _event(11, 10, 6, "MapIterationSucceeded", name="Fan", index=0),
        _event(12, 11, 7, "MapStateSucceeded"),
        _event(13, 11, 7, "MapStateExited", name="Fan"),
        _event(14, 13, 8, "ExecutionSucceeded"),
    ]
    runs = _by_label(events)
    assert list(runs) == ["Fan", "Item[0]", "Item[1]"]
    assert runs["Item[1]"].page is None and runs["Item[1]"].iteration == 1
    assert all(run.status == "succeeded" for run in runs.values())
    assert runs["Item[0]"].duration_ms == 3


def test_a_map_inside_a_map_nests_its_iterations() -> None:
    events = [
        _event(1, 0, 0, "ExecutionStarted"),
        _event(2, 0, 1, "MapStateEntered", name="Docs"),
        _event(3, 2, 2, "MapStateStarted", length=2),
        _event(4, 3, 3, "MapIterationStarted", name="Docs", index=0),
        _event(5, 4, 4, "MapStateEntered", name="Pages", input='{"doc": 0}'),
        _event(6, 5, 5, "MapStateStarted", length=1),
        _event(7, 6, 6, "MapIterationStarted", name="Pages", index=0),
        _event(8, 7, 7, "TaskStateEntered", name="OcrPage", input=_page(1)),
        _event(9, 8, 8, "TaskScheduled"),
        _event(10, 9, 9, "TaskStarted"),
        _event(11, 10, 20, "TaskSucceeded"),
        _event(12, 11, 21, "TaskStateExited", name="OcrPage"),
        _event(13, 12, 22, "MapIterationSucceeded", name="Pages", index=0),
        _event(14, 13, 23, "MapStateSucceeded"),
        _event(15, 13, 24, "MapStateExited", name="Pages"),
        # The outer Map's next iteration follows on from the inner Map's exit.
        _event(16, 15, 25, "MapIterationSucceeded", name="Docs", index=0),
        _event(17, 15, 25, "MapIterationStarted", name="Docs", index=1),
        _event(18, 17, 26, "PassStateEntered", name="Skip", input='{"doc": 1}'),
        _event(19, 18, 27, "PassStateExited", name="Skip"),
        _event(20, 19, 28, "MapIterationSucceeded", name="Docs", index=1),
        _event(21, 20, 29, "MapStateSucceeded"),
        _event(22, 20, 30, "MapStateExited", name="Docs"),
        _event(23, 22, 31, "ExecutionSucceeded"),
    ]
    timeline = execution_timeline(events)
    assert [(run.state, run.depth, run.status) for run in timeline.states] == [
        ("Docs", 0, "succeeded"),
        ("Pages[0]", 1, "succeeded"),
        ("OcrPage[page 1]", 2, "succeeded"),
        ("Skip[1]", 1, "succeeded"),
    ]
    assert [run.duration_ms for run in timeline.states] == [29, 20, 14, 1]


def test_events_out_of_order_with_iso_timestamps_give_the_same_timeline() -> None:
    as_json = json.loads(json.dumps(list(reversed(SUCCEEDED_WITH_RETRIES)), default=str))
    assert isinstance(as_json[0]["timestamp"], str)
    expected = execution_timeline(SUCCEEDED_WITH_RETRIES)
    assert execution_timeline(as_json) == expected


def test_a_timed_out_execution_leaves_its_running_state_aborted() -> None:
    events = [
        _event(1, 0, 0, "ExecutionStarted"),
        _event(2, 0, 1, "TaskStateEntered", name="Summarise"),
        _event(3, 2, 2, "TaskScheduled"),
        _event(4, 3, 3, "TaskStarted"),
        _event(5, 4, 900_000, "ExecutionTimedOut", error="States.Timeout"),
    ]
    timeline = execution_timeline(events)
    assert timeline.status == "TIMED_OUT"
    assert timeline.error == "States.Timeout"
    assert timeline.duration_ms == 900_000
    (run,) = timeline.states
    assert (run.state, run.status, run.attempts) == ("Summarise", "aborted", 1)


def test_a_task_that_fails_every_attempt_counts_its_retries() -> None:
    events = [_event(1, 0, 0, "ExecutionStarted"), _event(2, 0, 1, "TaskStateEntered", name="S")]
    previous, at = 2, 1
    for attempt in range(3):
        at += 100
        events.append(_event(3 + 3 * attempt, previous, at, "TaskScheduled"))
        events.append(_event(4 + 3 * attempt, 3 + 3 * attempt, at, "TaskStarted"))
        events.append(
            _event(
                5 + 3 * attempt, 4 + 3 * attempt, at + 50, "TaskTimedOut", error="States.Timeout"
            )
        )
        previous = 5 + 3 * attempt
    events.append(_event(12, 11, 400, "ExecutionFailed", error="States.Timeout"))
    (run,) = execution_timeline(events).states
    assert (run.attempts, run.retries) == (3, 2)
    assert run.retry_errors == ["States.Timeout", "States.Timeout"]
    assert (run.status, run.error) == ("failed", "States.Timeout")


def test_no_events_is_an_empty_running_timeline() -> None:
    timeline = execution_timeline([])
    assert (timeline.status, timeline.states, timeline.started_at) == ("RUNNING", [], None)


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (None, None),
        ("", None),
        ("plain words", "plain words"),
        ('{"errorMessage": "boom", "stackTrace": ["x"]}', "boom"),
        ('{"no": "message"}', '{"no": "message"}'),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_causes_keep_only_the_message(cause: str | None, expected: str | None) -> None:
    assert short_cause(cause) == expected


def test_a_long_cause_is_cut() -> None:
    cut = short_cause("x" * 5000)
    assert cut is not None and len(cut) == MAX_CAUSE_CHARS and cut.endswith("…")


# ---------------------------------------------------------------------------- Workflow.history

ARN = "arn:aws:states:us-east-1:123456789012:execution:pipeline:6b0b0feb7d81b5b5601988f8"


def test_workflow_history_reads_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client(
        "stepfunctions",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        stub.add_response(
            "get_execution_history",
            {"events": SUCCEEDED_WITH_RETRIES[:40], "nextToken": "page-2"},
            {"executionArn": ARN, "includeExecutionData": True, "maxResults": 1000},
        )
        stub.add_response(
            "get_execution_history",
            {"events": SUCCEEDED_WITH_RETRIES[40:]},
            {
                "executionArn": ARN,
                "includeExecutionData": True,
                "maxResults": 1000,
                "nextToken": "page-2",
            },
        )
        stub.add_client_error("get_execution_history", service_error_code="ExecutionDoesNotExist")
        workflow = Workflow("arn:aws:states:us-east-1:123456789012:stateMachine:pipeline", client)
        events = workflow.history(ARN)
        assert events is not None
        assert [event["id"] for event in events] == list(range(1, 68))
        assert execution_timeline(events).status == "SUCCEEDED"
        assert workflow.history(ARN) is None  # no such execution
        stub.assert_no_pending_responses()
