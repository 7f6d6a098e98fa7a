"""The executor side, running inside the LocalStack process.

One ``HostProcessRuntimeExecutor`` is one Lambda execution environment: a single worker
process (``bootstrap.py --worker``) on the runtime interpreter, which imports the handler
once and runs invocations. The supervisor's part (AWS's ``init``: hand over the event, enforce
the timeout, replace a crashed or hung worker, collect the logs) runs here, in the thread
LocalStack invokes from, talking to the worker over two pipes.

Why in process: LocalStack's Docker executor posts each event to ``init`` over HTTP and waits
for ``init`` to post the logs and the result back through LocalStack's gateway. Running the
supervisor inside LocalStack instead saves a process per environment (~23 MB RSS, ~11 MB PSS:
an interpreter with ``http.server`` and ``urllib``) and three HTTP requests per invocation
through LocalStack's gateway, the stack's largest CPU user after the OCR; ``invoke`` returns
LocalStack's ``InvocationResult`` directly.

Settings (environment of the LocalStack process):

- ``HOST_LAMBDA_PYTHON``: the interpreter for ``python3.x`` functions. It should be a venv
  holding only what the AWS runtime provides (boto3), so that a dependency missing from the
  function's package or layers fails here as it would in AWS.
- ``HOST_LAMBDA_WORK_DIR``: where environment logs and ``/tmp`` directories go.

Each environment's ``/tmp`` (its ``TMPDIR`` and ``HOME``) is a folder of its own, mode 0700,
removed when the environment stops; the work folder and its ``logs`` are 0700 too. Every
environment runs as the LocalStack process's user, so the mode keeps the machine's other users
out, not another function of the same stack (AWS isolates those in separate sandboxes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from localstack.services.lambda_.invocation.executor_endpoint import (
    NAMESPACE,
    ShutdownDuringStartup,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
LOOPBACK = "127.0.0.1"
# Variables of the LocalStack process an environment inherits: what a Lambda sandbox also has
# (a PATH, a locale), nothing of LocalStack's own configuration. No TESSDATA_PREFIX: the OCR
# engine reads its layer's traineddata only, as in AWS.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL")
# How long stop() waits for an invocation in progress to notice its worker was killed.
STOP_WAIT_SECONDS = 10.0


def _private_dir(path: Path) -> Path:
    """``path`` created if need be, and readable, writable and listable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # mkdir's mode applies to a new folder only (and through the umask)
    return path


def _work_dir() -> Path:
    return _private_dir(Path(os.environ.get("HOST_LAMBDA_WORK_DIR") or "/tmp/pagewise-host-lambda"))


def _interpreter_for(function_version: FunctionVersion) -> str:
    runtime = function_version.config.runtime or ""
    if not runtime.startswith("python3"):
        raise LambdaRuntimeException(
            f"The host-process executor runs Python functions only, not {runtime or 'images'}"
        )
    python = os.environ.get("HOST_LAMBDA_PYTHON")
    if not python or not Path(python).exists():
        raise LambdaRuntimeException(
            "HOST_LAMBDA_PYTHON must name the interpreter for Lambda functions"
        )
    return python


def _lambda_error(error_type: str, message: str) -> dict[str, Any]:
    """The error document Lambda reports for a failed invocation or init."""
    return {"errorType": error_type, "errorMessage": message}


class Worker:
    """A worker process and its pipes; replaced after a timeout or a crash."""

    def __init__(self, python: str, environment: dict[str, str], cwd: str, log_path: Path):
        # os.pipe() descriptors are not inheritable (PEP 446): a worker started by another
        # LocalStack thread meanwhile never holds this one's pipe ends, so this worker's
        # death is seen at once as the end of its response pipe.
        request_read, self._request_write = os.pipe()
        self._response_read, response_write = os.pipe()
        try:
            with log_path.open("ab") as log_file:
                self.process = subprocess.Popen(
                    [
                        python,
                        "-I",
                        "-u",
                        str(BOOTSTRAP),
                        "--worker",
                        str(request_read),
                        str(response_write),
                    ],
                    env=environment,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    pass_fds=(request_read, response_write),
                    # Its own process group: a timeout kills the handler and anything it started.
                    start_new_session=True,
                )
        except BaseException:
            for fd in (self._request_write, self._response_read):
                os.close(fd)
            raise
        finally:
            os.close(request_read)
            os.close(response_write)
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        os.write(self._request_write, (json.dumps(message) + "\n").encode())

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The worker's next message; None on timeout; {"crashed": code} if it died."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
            # select() releases the GIL: a waiting invocation costs LocalStack no CPU.
            ready, _, _ = select.select([self._response_read], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._response_read, 65536)
            if not chunk:
                return {"crashed": self.process.wait()}
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def signal_kill(self) -> None:
        """Kill the worker's process group without touching the pipes: safe from another
        thread while an invocation waits on them (it then reads the end of the pipe)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        self.signal_kill()
        self.process.wait()
        for fd in (self._request_write, self._response_read):
            with contextlib.suppress(OSError):
                os.close(fd)


class HostProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        name = function_version.id.function_name
        self.log_path = _work_dir() / "logs" / f"{name}-{self.id}.log"
        self.tmp_dir = _work_dir() / "tmp" / self.id
        self.timeout = float(function_version.config.timeout or 3)
        self.worker: Worker | None = None
        # Held by start() and invoke() while they use the worker; stop() takes it to clean up.
        self._lock = threading.Lock()
        self._stopped = False
        self._start_command: tuple[str, dict[str, str], str] | None = None
        # The init phase of a fresh worker, reported once on the next REPORT line as AWS does
        # ("Init Duration"): benchmarks read cold starts from it.
        self._pending_init_ms: float | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        python = _interpreter_for(self.function_version)
        config = self.function_version.config
        task_root = str(config.code.get_unzipped_code_location()) if config.code else ""
        layer_dirs = [
            str(layer.code.get_unzipped_code_location()) for layer in config.layers if layer.code
        ]
        _private_dir(self.tmp_dir.parent)
        _private_dir(self.tmp_dir)
        _private_dir(self.log_path.parent)

        environment = {key: os.environ[key] for key in INHERITED_VARIABLES if key in os.environ}
        environment.update({key: str(value) for key, value in env_vars.items()})
        environment.update(
            {
                # AWS puts the code on /var/task and layers on /opt; here they stay where
                # LocalStack unzipped them and the worker puts them on sys.path in AWS order.
                "LAMBDA_TASK_ROOT": task_root,
                "HOST_LAMBDA_LAYER_DIRS": os.pathsep.join(layer_dirs),
                "TMPDIR": str(self.tmp_dir),
                "HOME": str(self.tmp_dir),
            }
        )
        self._start_command = (python, environment, task_root or str(self.tmp_dir))
        with self._lock:
            # The init phase runs before the environment is ready, as in AWS; an init error
            # is logged and reported by the first invocation (which runs init again).
            init_error = self._ensure_worker(time.time() + max(self.timeout, 10.0))
            if self._stopped:
                # LocalStack's startup timer (or a deletion) stopped the environment.
                self._drop_worker()
                raise ShutdownDuringStartup("Execution environment stopped during startup")
            if init_error is not None:
                self._log(json.dumps(init_error))

    def stop(self) -> None:
        self._stopped = True
        # An invocation may hold the lock, waiting on its worker: kill whichever worker is
        # current until it lets go (it sees the pipe end, and drops the worker itself).
        waited_until = time.monotonic() + STOP_WAIT_SECONDS
        acquired = False
        while not acquired and time.monotonic() < waited_until:
            worker = self.worker
            if worker is not None:
                worker.signal_kill()
            acquired = self._lock.acquire(timeout=0.1)
        try:
            if acquired:
                self._drop_worker()
            else:
                LOG.warning("Execution environment %s: an invocation did not end on stop", self.id)
        finally:
            if acquired:
                self._lock.release()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    # -- the worker (called with the lock held) --------------------------------------------

    def _ensure_worker(self, deadline: float) -> dict[str, Any] | None:
        """A worker past its init phase; the init error document if init fails."""
        if self.worker is not None and self.worker.process.poll() is None:
            return None
        self._drop_worker()
        if self._stopped or self._start_command is None:
            return _lambda_error("Runtime.ExitError", "Execution environment stopped")
        python, environment, cwd = self._start_command
        init_started = time.time()
        self.worker = Worker(python, environment, cwd, self.log_path)
        message = self.worker.receive(deadline)
        self._pending_init_ms = (time.time() - init_started) * 1000
        if message is None:
            self._drop_worker()
            return _lambda_error("Runtime.InitTimeout", "Init phase timed out")
        if "init_error" in message:
            # AWS runs the init phase again on the next invocation after an init failure.
            self._drop_worker()
            error: dict[str, Any] = message["init_error"]
            return error
        if "crashed" in message:
            self._drop_worker()
            return _lambda_error(
                "Runtime.ExitError", f"Runtime exited with error: exit status {message['crashed']}"
            )
        return None

    def _drop_worker(self) -> None:
        """Kill a worker that timed out, crashed or failed its init: the next invocation
        starts another."""
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _log(self, line: str) -> None:
        """A line of the runtime's own in the environment's log, after the worker's output
        (the worker flushes its stdout and stderr before it answers)."""
        with self.log_path.open("a", encoding="utf-8") as log_file:
            log_file.write(line + "\n")

    def _log_offset(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _logs_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(offset)
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    # -- invocation ------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            if self._stopped:
                raise CancelledError()
            result = self._run_invocation(payload)
            if self._stopped:
                # stop() killed the worker under this invocation: as LocalStack's own
                # executors do, the invocation is cancelled rather than answered.
                self._drop_worker()
                raise CancelledError()
            return result

    def _run_invocation(self, invocation: dict[str, str]) -> InvocationResult:
        request_id = invocation["invoke-id"]
        started = time.time()
        deadline = started + self.timeout
        offset = self._log_offset()
        self._log(f"START RequestId: {request_id} Version: $LATEST")

        is_error: bool
        body: bytes
        init_error = self._ensure_worker(deadline)
        if init_error is not None:
            is_error, body = True, json.dumps(init_error).encode()
        else:
            assert self.worker is not None
            self.worker.send(
                {
                    "id": request_id,
                    "arn": invocation.get("invoked-function-arn", ""),
                    "payload": invocation.get("payload", ""),
                    "trace_id": invocation.get("trace-id", ""),
                    "deadline": deadline,
                }
            )
            message = self.worker.receive(deadline)
            if message is None or "crashed" in message:
                error_type, detail = (
                    ("Sandbox.Timedout", f"Task timed out after {self.timeout:.2f} seconds")
                    if message is None
                    else (
                        "Runtime.ExitError",
                        f"Runtime exited with error: exit status {message['crashed']}",
                    )
                )
                self._drop_worker()
                lost = _lambda_error(error_type, f"RequestId: {request_id} Error: {detail}")
                is_error, body = True, json.dumps(lost).encode()
            elif "error" in message:
                is_error, body = True, json.dumps(message["error"]).encode()
            else:
                is_error, body = False, message["result"].encode()

        duration_ms = (time.time() - started) * 1000
        report = f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        if self._pending_init_ms is not None:
            report += f"\tInit Duration: {self._pending_init_ms:.2f} ms"
            self._pending_init_ms = None
        self._log(f"END RequestId: {request_id}\n{report}")
        # LocalStack stores these logs in the function's log group, as it does with the logs
        # its Docker executor's init posts.
        return InvocationResult(request_id, body, is_error=is_error, logs=self._logs_since(offset))

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "Execution environment was not started"

    # -- addresses -------------------------------------------------------------------------

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        # Nothing calls it back any more; the function still sees LOCALSTACK_RUNTIME_ENDPOINT
        # with the address LocalStack's own executors give it.
        from localstack import config

        gateway_port = config.GATEWAY_LISTEN[0].port
        return f"http://{LOOPBACK}:{gateway_port}{NAMESPACE}/{self.id}"

    # -- versions --------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        _interpreter_for(function_version)
        config = function_version.config
        if config.code:
            config.code.prepare_for_execution()
        for layer in config.layers:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # LocalStack owns the unzipped code cache and removes it with the version.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        python = os.environ.get("HOST_LAMBDA_PYTHON")
        if not python or not Path(python).exists():
            LOG.warning("HOST_LAMBDA_PYTHON is not set to an interpreter: Lambda cannot run")
            return False
        return True
