"""Secrets the functions need at run time, read once per container and cached."""

from __future__ import annotations

from pagewise.settings import PipelineSettings

# Powertools caches parameter values in memory this long; a rotated key is picked up after.
_CACHE_SECONDS = 300


def llm_api_key(settings: PipelineSettings) -> str | None:
    """The LLM API key: the environment first (local stack), then Secrets Manager, then SSM."""
    if settings.llm_api_key:
        return settings.llm_api_key
    if settings.llm_api_key_secret:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(settings.llm_api_key_secret, max_age=_CACHE_SECONDS))
    if settings.llm_api_key_parameter:
        from aws_lambda_powertools.utilities.parameters import get_parameter

        return str(
            get_parameter(settings.llm_api_key_parameter, decrypt=True, max_age=_CACHE_SECONDS)
        )
    return None
