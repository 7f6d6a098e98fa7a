"""Translation and summary by an LLM, through the ``openai`` client.

Works against OpenAI or any OpenAI-compatible server (``base_url``). One chat-completions call
per page returns both the legal-English and the plain-English text as JSON; the cited summary
is one JSON call per part of the document that fits the context budget (one for most).

- :mod:`.errors`: the typed errors, whose class names are a contract with the state machine;
- :mod:`.config`: :class:`LlmConfig`, what the calls need, validated once;
- :mod:`.chunking`: token estimates and cutting text into pieces that fit;
- :mod:`.prompts` and :mod:`.output`: what is asked, and checking what comes back;
- :mod:`.client`: the one call and what its failures mean;
- :mod:`.translator`: :class:`LlmTranslator`, pages and summaries.

Importing this package is light: ``openai`` is imported when an :class:`LlmTranslator` is built.
"""

from __future__ import annotations

from pagewise.documents.llm.chunking import estimate_tokens, split_text
from pagewise.documents.llm.config import LlmConfig
from pagewise.documents.llm.errors import (
    ALL_ERROR_NAMES,
    RETRYABLE_ERROR_NAMES,
    LlmBadRequest,
    LlmError,
    LlmQuotaExceeded,
    LlmThrottled,
    LlmUnavailable,
)
from pagewise.documents.llm.translator import LlmTranslator

__all__ = [
    "ALL_ERROR_NAMES",
    "RETRYABLE_ERROR_NAMES",
    "LlmBadRequest",
    "LlmConfig",
    "LlmError",
    "LlmQuotaExceeded",
    "LlmThrottled",
    "LlmTranslator",
    "LlmUnavailable",
    "estimate_tokens",
    "split_text",
]
