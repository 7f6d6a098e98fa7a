"""The executor side, running inside the LocalStack process.

One ``HostProcessRuntimeExecutor`` is one Lambda execution environment: a ``bootstrap.py``
supervisor process on the runtime interpreter, listening on a free 127.0.0.1 port for
``/invoke`` and calling back LocalStack's executor endpoint (ready, logs, response, error).

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

import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    StatusErrorException,
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


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


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


class HostProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id)
        self.port = _free_loopback_port()
        self.process: subprocess.Popen[bytes] | None = None
        name = function_version.id.function_name
        self.log_path = _work_dir() / "logs" / f"{name}-{self.id}.log"
        self.tmp_dir = _work_dir() / "tmp" / self.id

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        python = _interpreter_for(self.function_version)
        self.executor_endpoint.start()
        self.executor_endpoint.container_address = LOOPBACK
        self.executor_endpoint.container_port = self.port

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
                # LocalStack unzipped them and the bootstrap puts them on sys.path in AWS order.
                "LAMBDA_TASK_ROOT": task_root,
                "HOST_LAMBDA_LAYER_DIRS": os.pathsep.join(layer_dirs),
                "HOST_LAMBDA_PORT": str(self.port),
                "HOST_LAMBDA_LOG_FILE": str(self.log_path),
                "TMPDIR": str(self.tmp_dir),
                "HOME": str(self.tmp_dir),
            }
        )
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [python, "-I", "-u", str(BOOTSTRAP)],
                env=environment,
                cwd=task_root or str(self.tmp_dir),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own process group, so that stop() also ends the handler's worker.
                start_new_session=True,
            )
        threading.Thread(target=self._watch_startup, daemon=True).start()
        self.executor_endpoint.wait_for_startup()

    def _watch_startup(self) -> None:
        """Fail the startup at once if the bootstrap dies before it reports ready."""
        process = self.process
        if process is None:
            return
        code = process.wait()
        future = self.executor_endpoint.startup_future
        if future is not None and not future.done():
            future.set_exception(
                StatusErrorException(
                    f"Execution environment exited with code {code} during startup",
                    payload=self.get_logs().encode()[-4000:],
                )
            )

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=3)
            except ProcessLookupError:
                pass
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # the endpoint may already be gone; stopping must not fail
            LOG.debug("Error while stopping executor endpoint %s: %s", self.id, error)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    # -- addresses -------------------------------------------------------------------------

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        from localstack import config

        gateway_port = config.GATEWAY_LISTEN[0].port
        return f"http://{LOOPBACK}:{gateway_port}{self.executor_endpoint.get_endpoint_prefix()}"

    # -- invocation ------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "Execution environment was not started"

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
