"""The LLM's typed errors: their class names are a contract with the state machine.

The state machine retries on the error *name*: :class:`LlmThrottled` and
:class:`LlmUnavailable` are worth retrying with backoff, :class:`LlmBadRequest` never is
(configuration, content or output problems that a retry would only repeat). Every error
carries an ``error_code`` for the job record and a message a person can act on; the API key
never appears in either.
"""

from __future__ import annotations

from pagewise.errors import CodedError


class LlmError(CodedError):
    """An LLM call that failed; ``error_code`` is machine-readable, ``message`` is for a person.

    ``str(error)`` is ``"<error_code>: <message>"`` (see :class:`~pagewise.errors.CodedError`).
    The message comes first here and the code is optional: each class has a default code.
    """

    default_code = "llm_error"

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(error_code or self.default_code, message)


class LlmThrottled(LlmError):
    """The LLM said 429 (rate limit) after the client's own retries: retry later, with backoff."""

    default_code = "llm_throttled"


class LlmUnavailable(LlmError):
    """The LLM could not be reached, timed out or answered 5xx: retry later, with backoff."""

    default_code = "llm_unavailable"


class LlmQuotaExceeded(LlmError):
    """The LLM account's quota is spent (429 ``insufficient_quota``: billing, not rate).

    Shared by every tenant: one tenant's burst must not fail the others' jobs at once, so the
    state machine retries it with a long backoff (a quota topped up, or a rolling window
    passing), and the job fails as ``llm_quota_exceeded`` only when the retries are spent.
    """

    default_code = "llm_quota_exceeded"


class LlmBadRequest(LlmError):
    """A failure a retry would repeat. Codes:

    ``llm_bad_request`` (400, 404, 422 and other 4xx), ``llm_auth_failed`` (401, 403),
    ``llm_content_filtered`` (content filter or refusal), ``llm_invalid_output`` (the answer
    was not the JSON asked for, even after one corrective retry, or was cut off).
    """

    default_code = "llm_bad_request"


# Error type names the state machine should retry (with backoff); the rest are final.
RETRYABLE_ERROR_NAMES = (
    LlmThrottled.__name__,
    LlmUnavailable.__name__,
    LlmQuotaExceeded.__name__,
)
ALL_ERROR_NAMES = (*RETRYABLE_ERROR_NAMES, LlmBadRequest.__name__)
ERROR_CODES = (
    "llm_throttled",
    "llm_unavailable",
    "llm_bad_request",
    "llm_auth_failed",
    "llm_quota_exceeded",
    "llm_content_filtered",
    "llm_invalid_output",
)
