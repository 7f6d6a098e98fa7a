"""Access to the deployed local stack for the integration and e2e tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
import pytest
import requests
from pagewise_client.local import stack_outputs

# localstack/stack.sh honours the same two variables, so a second stack (another checkout,
# another PAGEWISE_HOME) can run beside the first one on other ports.
LOCALSTACK_PORT = int(os.environ.get("LOCALSTACK_PORT", "4566"))
MONGO_PORT = int(os.environ.get("MONGO_PORT", "27017"))
LOCALSTACK = os.environ.get("PAGEWISE_LOCALSTACK_URL", f"http://127.0.0.1:{LOCALSTACK_PORT}")
MONGODB_URI = f"mongodb://127.0.0.1:{MONGO_PORT}/?retryWrites=false&directConnection=true"


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


def physical_id(logical_id: str, stack: str = "pagewise") -> str:
    detail = aws_client("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )["StackResourceDetail"]
    return str(detail["PhysicalResourceId"])


@contextmanager
def function_reconfigured(
    logical_id: str,
    *,
    environment: dict[str, str] | None = None,
    timeout: int | None = None,
    layers: list[str] | None = None,
) -> Iterator[str]:
    """Change a deployed function's environment, timeout or layers (ARNs) for one test, then
    put them back.

    For fault injection through the function's own settings (e.g. OCR_DATA_DIR pointing at
    traineddata that hang or are missing, a layer left out), never through test-only code
    paths in the functions.
    """
    client = aws_client("lambda")
    name = physical_id(logical_id)
    original = client.get_function_configuration(FunctionName=name)
    variables = dict(original.get("Environment", {}).get("Variables", {}))
    changes: dict[str, Any] = {}
    if environment is not None:
        changes["Environment"] = {"Variables": {**variables, **environment}}
    if timeout is not None:
        changes["Timeout"] = timeout
    if layers is not None:
        changes["Layers"] = layers
    client.update_function_configuration(FunctionName=name, **changes)
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    try:
        yield name
    finally:
        client.update_function_configuration(
            FunctionName=name,
            Environment={"Variables": variables},
            Timeout=original["Timeout"],
            Layers=[layer["Arn"] for layer in original.get("Layers", [])],
        )
        client.get_waiter("function_updated_v2").wait(FunctionName=name)
