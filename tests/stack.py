"""Access to the deployed local stack for the integration and e2e tests."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from typing import Any

import boto3
import pytest
import requests
from pagewise.logic.keys import tenant_part
from pagewise.models import STATUS_ORDER as JOB_STATUS_ORDER
from pagewise_client.api import PagewiseClient
from pagewise_client.local import local_token, stack_outputs

# localstack/stack.sh honours the same two variables, so a second stack (another checkout,
# another PAGEWISE_HOME) can run beside the first one on other ports.
LOCALSTACK_PORT = int(os.environ.get("LOCALSTACK_PORT", "4566"))
MONGO_PORT = int(os.environ.get("MONGO_PORT", "27017"))
LOCALSTACK = os.environ.get("PAGEWISE_LOCALSTACK_URL", f"http://127.0.0.1:{LOCALSTACK_PORT}")
MONGODB_URI = f"mongodb://127.0.0.1:{MONGO_PORT}/?retryWrites=false&directConnection=true"
# The forward order of a job's statuses as the API spells them (failed is not in it).
STATUS_ORDER: list[str] = [status.value for status in JOB_STATUS_ORDER]


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


def new_tenant(prefix: str) -> str:
    """A tenant of its own (``prefix-<8 hex>``): lists and deletions see nothing else."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stack_client(tenant: str, **claims: object) -> PagewiseClient:
    """A client of the deployed API with a local token for ``tenant`` (and extra ``claims``);
    fails when the stack is down."""
    require_stack()
    return PagewiseClient(outputs()["ApiUrl"], tenant_token(tenant, **claims))


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


@contextmanager
def llm_functions_answered_by(
    base_url: str, extra: dict[str, str] | None = None, timeout_seconds: int = 10
) -> Iterator[None]:
    """TranslatePage and Summarise call the OpenAI-compatible server at ``base_url`` (a
    FakeOpenAI) through their own LLM_* settings, with ``extra`` settings, then are put
    back."""
    settings = {
        "LLM_MODEL": "fake-model",
        "LLM_BASE_URL": base_url,
        "LLM_API_KEY": "sk-test-not-a-real-key",
        "LLM_TIMEOUT_SECONDS": str(timeout_seconds),
        **(extra or {}),
    }
    with ExitStack() as configured:
        for function in ("TranslatePageFunction", "SummariseFunction"):
            configured.enter_context(function_reconfigured(function, environment=settings))
        yield


# -- tenants and their cleanup ---------------------------------------------------------------

# Every tenant a stack test signs a token for; tests/conftest.py deletes what each made (its
# jobs, through the API's DELETE, and any object left under its prefixes) once its module ends.
_TENANTS: set[str] = set()


def tenant_token(subject: str, lifetime_seconds: int = 3600, **claims: object) -> str:
    """local_token, with the tenant remembered for cleanup."""
    _TENANTS.add(subject)
    return local_token(subject, lifetime_seconds, **claims)


def _delete_objects(prefix: str) -> None:
    s3 = aws_client("s3")
    bucket = outputs()["UploadsBucketName"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})


def delete_tenant(subject: str) -> None:
    """Delete every job of ``subject`` (DELETE cancels a running one, then deletes it with
    its files) and sweep its key prefixes for anything a failed job left."""
    client = PagewiseClient(outputs()["ApiUrl"], local_token(subject))
    job_ids: list[str] = []
    cursor = None
    while True:
        page = client.list_jobs(limit=100, cursor=cursor)
        job_ids += [job["job_id"] for job in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    for job_id in job_ids:
        if client.cancel(job_id)["outcome"] == "cancelled":
            client.cancel(job_id)
        _delete_objects(f"work/{job_id}/")
    part = tenant_part(subject)
    for prefix in (f"uploads/{part}/", f"outputs/{part}/"):
        _delete_objects(prefix)


def clean_up_tenants() -> None:
    try:
        for subject in sorted(_TENANTS):
            delete_tenant(subject)
    finally:
        _TENANTS.clear()


def wait_until[T](check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` until it returns something other than None (or False); fail with
    ``what`` at the deadline. For conditions, never for the passing of time."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}")
        time.sleep(0.2)


def execution_history(
    job_id: str, *, ended: bool = True, timeout: float = 60
) -> list[dict[str, Any]]:
    """The job's Step Functions execution history; with ``ended``, once the execution ended.

    A job's final status is written to MongoDB by the failing or finishing step itself, a
    moment before Step Functions records that step's end: read at once, the history can
    still lack the failure that ended the job. ``ended=False`` reads it as it is now."""
    sfn = aws_client("stepfunctions")
    arn = f"{outputs()['StateMachineArn'].replace(':stateMachine:', ':execution:')}:{job_id}"
    if ended:
        wait_until(
            lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING",
            timeout,
            f"the execution of job {job_id} to end",
        )
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]
