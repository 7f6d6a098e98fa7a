"""The host-process Lambda executor, through LocalStack's real Lambda API.

Functions are created directly with boto3 (not through SAM) so that each behaviour of the
executor is tested on its own: code and layers on the path as in AWS, environment variables,
the timeout, a crashing handler, a missing dependency failing as it would in AWS, the logs in
the function's log group, and one process per execution environment.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import aws_client, require_stack, wait_until

HANDLER = """
import os, stat, sys, tempfile, time

def handler(event, context):
    action = event.get("action")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "crash":
        os._exit(7)
    if action == "raise":
        raise ValueError("the handler said no")
    if action == "import":
        __import__(event["module"])
    if action == "layer":
        import layered
        return {"layer": layered.VALUE, "file": layered.__file__}
    if action == "tmp":
        folder = tempfile.gettempdir()
        info = os.stat(folder)
        return {"folder": folder, "mode": stat.S_IMODE(info.st_mode), "owner": info.st_uid}
    print("handled", action)
    return {
        "env": os.environ.get("PAGEWISE_TEST_VALUE"),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
    }
"""


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _create_function(name: str, app: str, timeout: int, **extra: Any) -> None:
    """A python3.13 function ``name`` whose app.py is ``app``, handler ``app.handler``."""
    aws_client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role="arn:aws:iam::000000000000:role/lambda-test",
        Handler="app.handler",
        Code={"ZipFile": _zip({"app.py": app})},
        Timeout=timeout,
        **extra,
    )


@pytest.fixture(scope="module")
def function_name() -> Iterator[str]:
    require_stack()
    lam = aws_client("lambda")
    name = f"executor-test-{uuid.uuid4().hex[:8]}"
    layer = lam.publish_layer_version(
        LayerName=f"{name}-layer",
        Content={"ZipFile": _zip({"python/layered.py": "VALUE = 'from the layer'\n"})},
        CompatibleRuntimes=["python3.13"],
    )
    _create_function(
        name,
        HANDLER,
        3,
        Layers=[layer["LayerVersionArn"]],
        Environment={"Variables": {"PAGEWISE_TEST_VALUE": "configured"}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    yield name
    lam.delete_function(FunctionName=name)


def invoke(name: str, event: dict[str, Any]) -> tuple[str | None, dict[str, Any], float]:
    started = time.monotonic()
    response = aws_client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(response["Payload"].read() or b"null")
    return response.get("FunctionError"), body, time.monotonic() - started


def test_runs_the_handler_with_its_environment(function_name: str) -> None:
    error, body, _ = invoke(function_name, {"action": "hello"})
    assert error is None
    assert body["env"] == "configured"
    assert 0 < body["remaining_ms"] <= 3000
    assert body["request_id"]


def test_layers_are_on_the_path(function_name: str) -> None:
    error, body, _ = invoke(function_name, {"action": "layer"})
    assert error is None
    assert body["layer"] == "from the layer"


def test_a_handler_exception_is_a_function_error(function_name: str) -> None:
    error, body, _ = invoke(function_name, {"action": "raise"})
    assert error == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "the handler said no"


def test_only_the_aws_runtime_packages_are_available(function_name: str) -> None:
    # boto3 is part of the AWS Python runtime; pydantic is not (it must come from a layer),
    # even though LocalStack's own interpreter and the dev venv both have it.
    error, _, _ = invoke(function_name, {"action": "import", "module": "boto3"})
    assert error is None
    error, body, _ = invoke(function_name, {"action": "import", "module": "pydantic"})
    assert error == "Unhandled"
    assert body["errorType"] == "ModuleNotFoundError"


def test_each_environment_has_a_private_tmp_folder(function_name: str) -> None:
    error, body, _ = invoke(function_name, {"action": "tmp"})
    assert error is None, body
    # The environment's own folder (TMPDIR, where tempfile writes), readable by its owner only:
    # never the machine's shared /tmp, never 0755.
    assert body["folder"] != "/tmp"
    assert body["mode"] == 0o700, oct(body["mode"])
    assert body["owner"] == os.getuid()


def test_a_hung_handler_is_killed_at_the_timeout_and_the_next_call_works(
    function_name: str,
) -> None:
    error, body, elapsed = invoke(function_name, {"action": "sleep", "seconds": 30})
    assert error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in body["errorMessage"]
    assert elapsed < 25  # killed at the 3 s timeout, not after the 30 s sleep
    error, body, _ = invoke(function_name, {"action": "hello"})
    assert error is None and body["env"] == "configured"


def test_a_crashing_handler_is_reported_and_the_environment_recovers(function_name: str) -> None:
    _, before, _ = invoke(function_name, {"action": "hello"})
    error, body, _ = invoke(function_name, {"action": "crash"})
    assert error == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 7" in body["errorMessage"]
    error, after, _ = invoke(function_name, {"action": "hello"})
    assert error is None
    assert after["pid"] != before["pid"]  # a fresh worker, as AWS resets a sandbox


def test_a_missing_dependency_fails_at_import_as_in_aws() -> None:
    require_stack()
    lam = aws_client("lambda")
    name = f"executor-missing-{uuid.uuid4().hex[:8]}"
    _create_function(name, "import pymupdf\n\ndef handler(e, c):\n    return 1\n", 5)
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        error, body, _ = invoke(name, {})
        assert error == "Unhandled"
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert "Unable to import module 'app'" in body["errorMessage"]
        assert "pymupdf" in body["errorMessage"]
    finally:
        lam.delete_function(FunctionName=name)


# The stack's state folder (localstack/stack.sh): PID files, and the environments' log files.
HOME = Path(os.environ.get("PAGEWISE_HOME", Path(__file__).resolve().parents[2] / ".pagewise"))


def _log_messages(name: str, request_id: str) -> list[str] | None:
    """The function's log lines of one invocation, from END on; None until its REPORT line
    is stored (LocalStack stores an invocation's logs after answering it)."""
    logs = aws_client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return None
    lines = [line for e in events for line in e["message"].splitlines()]
    start = f"START RequestId: {request_id} Version: $LATEST"
    if start not in lines or not any(
        line.startswith(f"REPORT RequestId: {request_id}\t") for line in lines
    ):
        return None
    return lines[lines.index(start) :]


def test_each_invocation_logs_its_output_and_report_in_the_log_group(function_name: str) -> None:
    error, body, _ = invoke(function_name, {"action": "logged"})
    assert error is None
    request_id = body["request_id"]
    lines = wait_until(
        lambda: _log_messages(function_name, request_id), 30, "the invocation's REPORT line"
    )
    # AWS's order: START, the handler's own output, END, REPORT with the duration.
    assert lines[1] == "handled logged"
    assert lines[2] == f"END RequestId: {request_id}"
    assert lines[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def _environment(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(e.decode(errors="replace").split("=", 1) for e in entries if b"=" in e)


def _processes_where(variable: str, value: str) -> list[int]:
    """The PIDs of this machine's processes whose environment has ``variable=value``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _environment(int(entry.name)).get(variable) == value:
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or another user's process
                continue
    return found


def test_an_execution_environment_is_one_process(function_name: str) -> None:
    # The executor supervises the worker from inside LocalStack: no supervisor process
    # beside it (it was ~23 MB RSS per environment and three HTTP requests per invocation).
    _, body, _ = invoke(function_name, {"action": "hello"})
    worker = body["pid"]
    runtime_id = _environment(worker)["LOCALSTACK_RUNTIME_ID"]
    localstack = int((HOME / "pids" / "localstack.pid").read_text())
    parent = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert parent == localstack
    members = _processes_where("LOCALSTACK_RUNTIME_ID", runtime_id)
    assert members == [worker]


def test_deleting_a_function_ends_its_running_invocation_and_worker() -> None:
    # LocalStack stops the environment while the executor waits on the worker: stop() must
    # kill the worker under the waiting invocation, not leave it running to its timeout.
    require_stack()
    lam = aws_client("lambda")
    name = f"executor-stop-{uuid.uuid4().hex[:8]}"
    _create_function(name, HANDLER, 60)
    deleted = False
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        ended = threading.Event()

        def hang() -> None:
            # The cancelled invocation's 500, then the deleted function's 404.
            with contextlib.suppress(Exception):
                lam.invoke(
                    FunctionName=name, Payload=json.dumps({"action": "sleep", "seconds": 50})
                )
            ended.set()

        threading.Thread(target=hang, daemon=True).start()
        # The executor writes START before it hands the event to the worker.
        wait_until(
            lambda: any(
                "START RequestId" in log.read_text()
                for log in (HOME / "lambda" / "logs").glob(f"{name}-*.log")
            ),
            30,
            "the invocation running",
        )
        assert _processes_where("AWS_LAMBDA_FUNCTION_NAME", name)
        lam.delete_function(FunctionName=name)
        deleted = True
        wait_until(
            lambda: not _processes_where("AWS_LAMBDA_FUNCTION_NAME", name),
            15,
            "the worker killed with its environment",
        )
        wait_until(ended.is_set, 15, "the invocation ended")
    finally:
        if not deleted:
            lam.delete_function(FunctionName=name)
