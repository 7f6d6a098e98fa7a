"""Errors that end a job, and how a failure reported by Step Functions maps to an error code."""

from __future__ import annotations

import json

from pagewise.errors import CodedError
from pagewise.models import ErrorCode


class JobFailed(CodedError):
    """A permanent failure: the job is marked failed and the execution must not retry.

    The message is ``"<error_code>: <message for a person>"`` so that the error code
    survives the trip through Step Functions (which keeps only the type and the message).
    """


# Step Functions / Lambda error names and what a person should read for them.
_KNOWN_ERRORS: dict[str, tuple[str, str]] = {
    "States.Timeout": (ErrorCode.TIMEOUT, "The job took longer than allowed and was stopped."),
    "Sandbox.Timedout": (ErrorCode.TIMEOUT, "A processing step ran out of time."),
    # From the EventBridge rule on execution status changes (see FailureEvent).
    "States.TimedOut": (ErrorCode.TIMEOUT, "The job took longer than allowed and was stopped."),
    "States.Aborted": (ErrorCode.ABORTED, "The job's processing was stopped."),
    "Runtime.ExitError": (ErrorCode.INTERNAL_ERROR, "A processing step crashed repeatedly."),
    # Raised by the LLM client and retried by the state machine with backoff; here the retry
    # budget is spent.
    "LlmThrottled": (
        ErrorCode.LLM_THROTTLED,
        "The translation service kept refusing requests (rate limit); try again later.",
    ),
    "LlmUnavailable": (
        ErrorCode.LLM_UNAVAILABLE,
        "The translation service could not be reached after several attempts; try again later.",
    ),
}


def describe_failure(error: str | None, cause: str | None) -> tuple[str, str]:
    """(error_code, message) for a failure caught by the state machine."""
    error = error or "Unknown"
    detail = cause or ""
    try:
        parsed = json.loads(detail) if detail else {}
    except ValueError:
        parsed = {}
    if isinstance(parsed, dict):
        detail = str(parsed.get("errorMessage") or detail)
    if error == JobFailed.__name__:
        code, _, message = detail.partition(": ")
        if message:
            return code, message
    if error in _KNOWN_ERRORS:
        return _KNOWN_ERRORS[error]
    return (
        ErrorCode.INTERNAL_ERROR,
        f"Processing failed unexpectedly ({error}). The error has been logged.",
    )
