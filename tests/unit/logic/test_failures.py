"""A failure caught by the state machine or reported by EventBridge ends the job `failed`
with an error code and a message a person can read."""

from __future__ import annotations

import json
from typing import Any

from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.events import FailureEvent
from pagewise.logic.errors import JobFailed, describe_failure
from pagewise.logic.pipeline import Pipeline
from pagewise.models import JobStatus
from pagewise.settings import PipelineSettings
from pymongo.database import Database

from tests.unit.builders import a_job


def _cause(error_type: str, message: str) -> str:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": ["x"]})


def test_a_job_failed_error_keeps_its_code_and_message() -> None:
    error = JobFailed("corrupt_document", "The PDF file could not be opened.")
    assert describe_failure("JobFailed", _cause("JobFailed", str(error))) == (
        "corrupt_document",
        "The PDF file could not be opened.",
    )


def test_timeouts_and_aborts_have_their_codes() -> None:
    assert describe_failure("Sandbox.Timedout", _cause("Sandbox.Timedout", "x"))[0] == "timeout"
    assert describe_failure("States.Timeout", None)[0] == "timeout"
    assert describe_failure("States.TimedOut", None)[0] == "timeout"
    assert describe_failure("States.Aborted", None)[0] == "aborted"


def test_an_unexpected_error_is_internal_and_leaks_no_trace() -> None:
    code, message = describe_failure("KeyError", _cause("KeyError", "'secret' at line 3"))
    assert code == "internal_error"
    assert "KeyError" in message and "secret" not in message and "stackTrace" not in message


def test_failure_events_from_a_catch_and_from_eventbridge() -> None:
    caught = FailureEvent.parse(
        {"job_id": "j1", "error": {"Error": "JobFailed", "Cause": "{}"}, "other": 1}
    )
    assert (caught.job_id, caught.error) == ("j1", "JobFailed")
    for status, expected in (("TIMED_OUT", "States.TimedOut"), ("ABORTED", "States.Aborted")):
        event = {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"name": "j2", "status": status, "error": None},
        }
        parsed = FailureEvent.parse(event)
        assert (parsed.job_id, parsed.error) == ("j2", expected)


def _pipeline(db: Database[dict[str, Any]], aws: dict[str, str]) -> Pipeline:
    settings = PipelineSettings.model_validate(
        {"MONGODB_URI": "mongodb://unused", "UPLOADS_BUCKET": aws["bucket"]}
    )
    return Pipeline(
        settings,
        JobRepository(db),
        PageRepository(db),
        ResultRepository(db),
        DocumentStore(aws["bucket"]),
    )


def test_mark_failed_never_overwrites_a_completed_job(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    pipeline = _pipeline(db, aws)
    done, running = a_job(status=JobStatus.COMPLETED), a_job(status=JobStatus.OCR_STARTED)
    pipeline.jobs.insert(done)
    pipeline.jobs.insert(running)
    assert pipeline.mark_failed(done.job_id, "States.Timeout", None).already_final is True
    assert pipeline.jobs.get(done.job_id).processing_status == JobStatus.COMPLETED  # type: ignore[union-attr]
    result = pipeline.mark_failed(running.job_id, "States.Timeout", None)
    assert result.error_code == "timeout"
    assert pipeline.jobs.get(running.job_id).processing_status == JobStatus.FAILED  # type: ignore[union-attr]


def test_a_page_that_keeps_failing_is_named_in_the_message(
    db: Database[dict[str, Any]], aws: dict[str, str]
) -> None:
    pipeline = _pipeline(db, aws)
    job = a_job(status=JobStatus.OCR_STARTED)
    pipeline.jobs.insert(job)
    event = FailureEvent.parse(
        {
            "job_id": job.job_id,
            "page": 3,
            "error": {"Error": "Sandbox.Timedout", "Cause": _cause("Sandbox.Timedout", "x")},
        }
    )
    pipeline.mark_failed(event.job_id, event.error, event.cause, page=event.page)
    failed = pipeline.jobs.get(job.job_id)
    assert failed is not None and failed.processing_status == JobStatus.FAILED
    assert failed.error_code == "timeout"
    assert failed.error_message == "Page 3: A processing step ran out of time."


def test_llm_errors_after_the_retry_budget_have_their_codes() -> None:
    assert describe_failure("LlmUnavailable", _cause("LlmUnavailable", "HTTP 500"))[0] == (
        "llm_unavailable"
    )
    assert describe_failure("LlmThrottled", None)[0] == "llm_throttled"
    assert describe_failure("Runtime.ExitError", None)[0] == "internal_error"
