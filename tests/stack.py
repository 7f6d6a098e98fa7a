"""Access to the deployed local stack for the integration and e2e tests."""

from __future__ import annotations

import os
from functools import cache

import boto3
import pytest
import requests
from pagewise_client.local import stack_outputs

LOCALSTACK = os.environ.get("PAGEWISE_LOCALSTACK_URL", "http://127.0.0.1:4566")


def aws_client(service: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=LOCALSTACK,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@cache
def outputs() -> dict[str, str]:
    return stack_outputs()


def require_stack() -> None:
    """Fail (not skip) when the stack is down: `make test` starts it, a skip would hide that."""
    try:
        requests.get(f"{LOCALSTACK}/_localstack/health", timeout=5).raise_for_status()
    except requests.RequestException as error:
        pytest.fail(f"the local stack is not running ({error}); run `make up` first")
