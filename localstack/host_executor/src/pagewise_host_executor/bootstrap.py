"""One Lambda execution environment's runtime on the host: the part AWS's runtime plays.

Runs on the Lambda interpreter (``HOST_LAMBDA_PYTHON``) with the standard library only, as
the *worker* of an execution environment: it imports the handler once (the init phase, kept
warm) and runs invocations. The executor (``executor.py``, inside the LocalStack process)
starts it, hands it each event, enforces the function's timeout and kills and replaces it
after a timeout or a crash, as AWS resets a sandbox. There is no supervisor process: the
executor's threads in LocalStack play that part, so an environment is this one process.

Executor and worker talk over two pipes, one JSON document per line. The worker's stdout and
stderr are the environment's log file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from importlib import import_module
from typing import Any


class LambdaContext:
    """The attributes and method of the AWS Python runtime's context object."""

    def __init__(self, request_id: str, invoked_arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error_document(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        # Leave out this file's own frames: the trace starts in the function's code, as in AWS.
        "stackTrace": [
            line
            for frame, line in zip(
                traceback.extract_tb(error.__traceback__),
                traceback.format_tb(error.__traceback__),
                strict=True,
            )
            if frame.filename != __file__
        ],
    }


def _load_handler() -> Any:
    """Import the handler as the AWS runtime does, with its error types."""
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "")
    layer_dirs = [d for d in os.environ.get("HOST_LAMBDA_LAYER_DIRS", "").split(os.pathsep) if d]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    # AWS: /var/task, then /opt/python/lib/pythonX.Y/site-packages, then /opt/python, then the
    # runtime's own packages. Later layers are extracted over earlier ones, so they come first.
    front = [task_root] if task_root else []
    for layer in reversed(layer_dirs):
        front += [os.path.join(layer, "python", "lib", version, "site-packages")]
        front += [os.path.join(layer, "python")]
    sys.path[:0] = [p for p in front if os.path.isdir(p)]

    handler_name = os.environ.get("_HANDLER", "")
    module_name, _, function_name = handler_name.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}'")
    try:
        module = import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    except SyntaxError as error:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        ) from error
    try:
        return getattr(module, function_name)
    except AttributeError as error:
        raise _InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from error


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def worker_main(request_fd: int, response_fd: int) -> None:
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    responses = os.fdopen(response_fd, "w", encoding="utf-8")

    def send(message: dict[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        responses.write(json.dumps(message) + "\n")
        responses.flush()

    try:
        handler = _load_handler()
    except _InitError as error:
        send({"init_error": _error_document(error, error.error_type)})
        return
    except Exception as error:  # an exception raised by the module's top-level code
        send({"init_error": _error_document(error, f"Runtime.{type(error).__name__}")})
        return
    send({"init": "ok"})

    for line in requests:
        request = json.loads(line)
        os.environ["_X_AMZN_TRACE_ID"] = request.get("trace_id") or ""
        context = LambdaContext(request["id"], request["arn"], request["deadline"])
        try:
            result = handler(json.loads(request["payload"] or "null"), context)
        except Exception as error:
            send({"error": _error_document(error)})
            continue
        try:
            body = json.dumps(result)
        except (TypeError, ValueError) as error:
            send({"error": _error_document(error, "Runtime.MarshalError")})
            continue
        send({"result": body})


if __name__ == "__main__":
    # "--worker" names the role in the process list (the benchmarks' profiler reads it).
    if len(sys.argv) != 4 or sys.argv[1] != "--worker":
        sys.exit("usage: bootstrap.py --worker REQUEST_FD RESPONSE_FD")
    worker_main(int(sys.argv[2]), int(sys.argv[3]))
