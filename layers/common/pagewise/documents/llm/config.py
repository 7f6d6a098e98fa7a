"""What the LLM calls need (model, server, timeouts, context budget), validated once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

OPENAI_BASE_URL = "https://api.openai.com/v1"
# The openai client sleeps for a server's Retry-After up to this long before its own retry.
CLIENT_MAX_RETRY_AFTER_SECONDS = 120.0
# Tokens the summary prompts themselves take (instructions, tags, part headers), kept out of
# the budget for the document text.
SUMMARY_PROMPT_OVERHEAD_TOKENS = 300

ResponseFormat = Literal["json_schema", "json_object"]


@dataclass(frozen=True)
class LlmConfig:
    """Everything the LLM calls need; built from settings by the caller (never from the
    environment here: ``base_url=None`` means OpenAI, not ``$OPENAI_BASE_URL``).

    ``request_timeout_seconds`` bounds each HTTP attempt and ``max_retries`` is the openai
    client's own retry count (429, 5xx, connection errors); see :attr:`worst_case_call_seconds`
    for what one call can take, which must stay well under the Lambda timeout: retries beyond
    that belong to Step Functions. ``max_context_tokens`` is the model's context window, of
    which ``summary_output_tokens`` is kept for the summary's answer.

    ``response_format``: ``"json_schema"`` (strict structured output: OpenAI, Azure OpenAI,
    vLLM, llama.cpp's server, Ollama and LM Studio accept it) or ``"json_object"`` (JSON mode
    only, for servers that reject schemas). Either way the answer is validated and one
    corrective retry is made, so a server that ignores the format degrades gracefully.

    ``temperature=None`` sends none: some models (OpenAI's reasoning models) reject any value
    but the default. An empty ``api_key`` is sent as a placeholder, for local servers that
    need none.
    """

    model: str
    api_key: str = field(default="", repr=False)
    base_url: str | None = None
    request_timeout_seconds: float = 60.0
    max_retries: int = 1
    max_context_tokens: int = 32_000
    summary_output_tokens: int = 1_000
    response_format: ResponseFormat = "json_schema"
    temperature: float | None = None
    provider: str | None = None

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ValueError("LlmConfig.model must name a model")
        if not 0 < self.request_timeout_seconds <= 600:
            raise ValueError("LlmConfig.request_timeout_seconds must be in (0, 600]")
        if not 0 <= self.max_retries <= 5:
            raise ValueError("LlmConfig.max_retries must be between 0 and 5")
        if self.summary_output_tokens < 50:
            raise ValueError("LlmConfig.summary_output_tokens must be at least 50")
        if self.summary_input_budget_tokens < 2 * self.summary_output_tokens:
            raise ValueError(
                "LlmConfig.max_context_tokens is too small: a summary call must carry at least "
                "twice its answer's tokens (2 * summary_output_tokens) of text, plus the prompt "
                f"({SUMMARY_PROMPT_OVERHEAD_TOKENS} tokens) and the answer"
            )
        if self.response_format not in ("json_schema", "json_object"):
            raise ValueError("LlmConfig.response_format must be 'json_schema' or 'json_object'")

    @property
    def effective_base_url(self) -> str:
        return self.base_url or OPENAI_BASE_URL

    @property
    def provider_label(self) -> str:
        """``provider`` if set, else ``"openai"`` for api.openai.com, ``"openai-compatible"``."""
        if self.provider:
            return self.provider
        host = urlsplit(self.effective_base_url).hostname or ""
        if host == "openai.com" or host.endswith(".openai.com"):
            return "openai"
        return "openai-compatible"

    @property
    def server_label(self) -> str:
        """Host and port of the server, for messages (never the URL's user info or path)."""
        parts = urlsplit(self.effective_base_url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host

    @property
    def worst_case_call_seconds(self) -> float:
        """The longest one LLM call can take: every attempt timing out, plus the longest
        Retry-After the openai client honours between attempts."""
        attempts = self.max_retries + 1
        return attempts * self.request_timeout_seconds + (
            self.max_retries * CLIENT_MAX_RETRY_AFTER_SECONDS
        )

    @property
    def summary_input_budget_tokens(self) -> int:
        """Estimated tokens of document text one summary call may carry."""
        return self.max_context_tokens - self.summary_output_tokens - SUMMARY_PROMPT_OVERHEAD_TOKENS
