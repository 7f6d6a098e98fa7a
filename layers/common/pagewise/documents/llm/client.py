"""The one chat-completions call, through the ``openai`` client, and what its failures mean.

Works against OpenAI or any OpenAI-compatible server (``base_url``). ``openai`` is imported
when an :class:`LlmClient` is built, never at import time: offline deployments never pay for it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pagewise.documents.llm.config import LlmConfig
from pagewise.documents.llm.errors import LlmBadRequest, LlmError, LlmThrottled, LlmUnavailable
from pagewise.documents.llm.prompts import TRANSLATION_SCHEMA

if TYPE_CHECKING:
    import openai

LOG = logging.getLogger(__name__)

_SECRET_LIKE = re.compile(r"\b(?:sk|key|token)-[A-Za-z0-9_\-*.]{6,}")


@dataclass
class Answer:
    content: str
    prompt_tokens: int
    completion_tokens: int


class LlmClient:
    """One ``openai.OpenAI`` client, built here once and reused (it is thread-safe; keep one
    per Lambda execution environment); :meth:`complete` makes one call and maps its failures
    to the typed errors."""

    def __init__(self, config: LlmConfig) -> None:
        import openai  # here, not at module level: offline deployments never pay for it

        self.config = config
        self._openai = openai
        self._client = openai.OpenAI(
            # A placeholder for servers that need no key: the client refuses an empty one.
            api_key=config.api_key or "no-key",
            base_url=config.effective_base_url,
            timeout=config.request_timeout_seconds,
            max_retries=config.max_retries,
        )

    def close(self) -> None:
        self._client.close()

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        what: str,
        json_output: bool,
        schema: tuple[str, dict[str, Any]] = ("page_translation", TRANSLATION_SCHEMA),
    ) -> Answer:
        """One chat completion; with ``json_output``, strict JSON of ``schema`` (name, schema)."""
        config = self.config
        kwargs: dict[str, Any] = {"model": config.model, "messages": messages}
        if json_output:
            if config.response_format == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": schema[0], "strict": True, "schema": schema[1]},
                }
            else:
                kwargs["response_format"] = {"type": "json_object"}
        if config.temperature is not None:
            kwargs["temperature"] = config.temperature
        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(**kwargs)
        except self._openai.OpenAIError as error:
            mapped = self._map_error(error, what)
            LOG.warning(
                "LLM call for %s failed after %.1f s: %s",
                what,
                time.monotonic() - started,
                mapped,
            )
            raise mapped from error
        usage = getattr(completion, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        LOG.info(
            "LLM call for %s: %.1f s, %d prompt + %d completion tokens",
            what,
            time.monotonic() - started,
            prompt_tokens,
            completion_tokens,
        )
        choices = getattr(completion, "choices", None)
        if not choices:
            raise LlmBadRequest(
                f"The LLM ({config.model}) returned no answer for {what}.", "llm_invalid_output"
            )
        choice = choices[0]
        message = choice.message
        if choice.finish_reason == "content_filter" or getattr(message, "refusal", None):
            raise LlmBadRequest(
                f"The LLM ({config.model}) declined {what}: its content filter or policy "
                "refused the text.",
                "llm_content_filtered",
            )
        if choice.finish_reason == "length":
            raise LlmBadRequest(
                f"The LLM's answer for {what} was cut off: it reached the model's output limit "
                f"({config.model}).",
                "llm_invalid_output",
            )
        return Answer(message.content or "", prompt_tokens, completion_tokens)

    def _map_error(self, error: openai.OpenAIError, what: str) -> LlmError:
        """One of our typed errors for an ``openai`` exception, with a message for a person."""
        openai = self._openai
        config = self.config
        server = config.server_label
        attempts = config.max_retries + 1
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(error, openai.APITimeoutError):
            return LlmUnavailable(
                f"The LLM at {server} did not answer for {what} within "
                f"{config.request_timeout_seconds:g} s ({tries})."
            )
        if isinstance(error, openai.APIConnectionError):
            cause = self._redact(str(error.__cause__ or error))
            return LlmUnavailable(
                f"Could not reach the LLM at {server} for {what} ({tries}): {cause}"
            )
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            code = str(error.code or "")
            detail = self._server_detail(error)
            if status == 429 and code == "insufficient_quota":
                return LlmBadRequest(
                    f"The LLM account at {server} has run out of quota (HTTP 429 "
                    f"insufficient_quota) for {what}: {detail}",
                    "llm_quota_exceeded",
                )
            if status == 429:
                return LlmThrottled(
                    f"The LLM at {server} is rate limiting requests (HTTP 429) for {what}, "
                    f"still after {tries}: {detail}"
                )
            if status in (408, 409) or status >= 500:
                return LlmUnavailable(
                    f"The LLM at {server} failed (HTTP {status}) for {what} ({tries}): {detail}"
                )
            if status in (401, 403):
                return LlmBadRequest(
                    f"The LLM at {server} refused the credentials (HTTP {status}) for {what}: "
                    f"check the API key and its access to model {config.model}. {detail}",
                    "llm_auth_failed",
                )
            if code in ("content_filter", "content_policy_violation") or (
                "content_management_policy" in detail
            ):
                return LlmBadRequest(
                    f"The LLM at {server} refused the text of {what} (content filter): {detail}",
                    "llm_content_filtered",
                )
            if status == 404:
                return LlmBadRequest(
                    f"The LLM at {server} has no model {config.model!r} or no chat completions "
                    f"endpoint at the configured base URL (HTTP 404): {detail}"
                )
            if code == "context_length_exceeded":
                return LlmBadRequest(
                    f"The text of {what} is too long for the model {config.model}'s context "
                    f"window: {detail}"
                )
            return LlmBadRequest(
                f"The LLM at {server} rejected the request for {what} (HTTP {status}): {detail}"
            )
        if isinstance(error, openai.APIResponseValidationError):
            return LlmBadRequest(
                f"The LLM at {server} answered {what} with something that is not a chat "
                "completion: check the base URL.",
                "llm_invalid_output",
            )
        return LlmUnavailable(f"The LLM call for {what} failed: {self._redact(str(error))}")

    def _server_detail(self, error: openai.APIStatusError) -> str:
        body = error.body
        message: object = body.get("message") if isinstance(body, dict) else body
        if not isinstance(message, str) or not message.strip():
            message = error.response.reason_phrase or "no detail given"
        return self._redact(" ".join(str(message).split()))

    def _redact(self, text: str, limit: int = 300) -> str:
        """Never let the API key (or anything that looks like one) into a message."""
        key = self.config.api_key
        if key:
            text = text.replace(key, "[redacted]")
        text = _SECRET_LIKE.sub("[redacted]", text)
        return text if len(text) <= limit else text[: limit - 1] + "…"
