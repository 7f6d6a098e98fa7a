"""Secrets the functions need at run time, read once per container and cached."""

from __future__ import annotations

from pagewise.settings import NotifySettings, PipelineSettings

# Powertools caches parameter values in memory this long; a rotated key is picked up after.
_CACHE_SECONDS = 300


def _read(value: str | None, secret_arn: str | None, parameter: str | None) -> str | None:
    """The environment first (local stack), then Secrets Manager, then an SSM SecureString."""
    if value:
        return value
    if secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(secret_arn, max_age=_CACHE_SECONDS))
    if parameter:
        from aws_lambda_powertools.utilities.parameters import get_parameter

        return str(get_parameter(parameter, decrypt=True, max_age=_CACHE_SECONDS))
    return None


def llm_api_key(settings: PipelineSettings) -> str | None:
    """The LLM API key."""
    return _read(settings.llm_api_key, settings.llm_api_key_secret, settings.llm_api_key_parameter)


def webhook_secret(settings: NotifySettings) -> str | None:
    """The key webhooks are signed with (HMAC-SHA256)."""
    return _read(
        settings.webhook_secret, settings.webhook_secret_arn, settings.webhook_secret_parameter
    )
