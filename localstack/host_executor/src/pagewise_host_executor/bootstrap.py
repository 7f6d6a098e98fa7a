"""One Lambda execution environment on the host: the part AWS's ``init`` and runtime play.

Runs on the Lambda interpreter (``HOST_LAMBDA_PYTHON``) with the standard library only.
Two processes:

- the *supervisor* (``main``) serves ``POST /invoke`` on 127.0.0.1, reports ready to
  LocalStack, and for each invocation hands the event to the worker, enforces the function's
  timeout, and posts the logs and the response or error back to LocalStack;
- the *worker* (``worker_main``) imports the handler once (the init phase, kept warm) and
  runs invocations. A handler that hangs past the timeout or crashes the interpreter kills
  only the worker; the supervisor reports the error and starts a fresh worker, as AWS
  resets a sandbox.

Supervisor and worker talk over two pipes, one JSON document per line.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from queue import Queue
from typing import Any

RUNTIME_ENDPOINT = os.environ.get("LOCALSTACK_RUNTIME_ENDPOINT", "")
RUNTIME_ID = os.environ.get("LOCALSTACK_RUNTIME_ID", "")


# -- worker ----------------------------------------------------------------------------------


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


# -- supervisor ------------------------------------------------------------------------------


# LocalStack is on loopback: never send these callbacks through a proxy. One opener for the
# environment's life, with no HTTPS handler: build_opener's default HTTPSHandler creates an SSL
# context and loads the system's CA certificates, which took ~60 % of a supervisor's CPU when
# it was built for every callback (two per invocation).
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _OPENER.add_handler(_handler)


def _post(path: str, body: bytes, content_type: str = "application/json") -> None:
    request = urllib.request.Request(
        f"{RUNTIME_ENDPOINT}{path}",
        data=body,
        method="POST",
        headers={"Content-Type": content_type},
    )
    with _OPENER.open(request, timeout=30) as response:
        response.read()


class Worker:
    """A worker process and its pipes; replaced after a timeout or a crash."""

    def __init__(self) -> None:
        request_read, self._request_write = os.pipe()
        self._response_read, response_write = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-u",
                __file__,
                "--worker",
                str(request_read),
                str(response_write),
            ],
            pass_fds=(request_read, response_write),
            # Its own process group: a timeout kills the handler and anything it started.
            process_group=0,
        )
        os.close(request_read)
        os.close(response_write)
        self._buffer = b""
        self.init_error: dict[str, Any] | None = None

    def send(self, message: dict[str, Any]) -> None:
        os.write(self._request_write, (json.dumps(message) + "\n").encode())

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The worker's next message; None on timeout; {"crashed": code} if it died."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
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

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for fd in (self._request_write, self._response_read):
            with contextlib.suppress(OSError):
                os.close(fd)


def _lambda_error(error_type: str, message: str) -> dict[str, Any]:
    """The error document Lambda reports for a failed invocation or init."""
    return {"errorType": error_type, "errorMessage": message}


class Supervisor:
    def __init__(self) -> None:
        self.timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self.log_file = os.environ.get("HOST_LAMBDA_LOG_FILE", "")
        self.worker: Worker | None = None
        self.invocations: Queue[dict[str, str]] = Queue()
        # The init phase of a fresh worker, reported once on the next REPORT line as AWS does
        # ("Init Duration"): benchmarks read cold starts from it.
        self.pending_init_ms: float | None = None

    def ensure_worker(self, deadline: float) -> dict[str, Any] | None:
        """A worker past its init phase; the init error document if init fails."""
        if self.worker is not None and self.worker.process.poll() is None:
            return None
        self.drop_worker()
        init_started = time.time()
        self.worker = Worker()
        message = self.worker.receive(deadline)
        self.pending_init_ms = (time.time() - init_started) * 1000
        if message is None:
            self.drop_worker()
            return _lambda_error("Runtime.InitTimeout", "Init phase timed out")
        if "init_error" in message:
            # AWS runs the init phase again on the next invocation after an init failure.
            self.drop_worker()
            error: dict[str, Any] = message["init_error"]
            return error
        if "crashed" in message:
            self.drop_worker()
            return _lambda_error(
                "Runtime.ExitError", f"Runtime exited with error: exit status {message['crashed']}"
            )
        return None

    def drop_worker(self) -> None:
        """Kill a worker that timed out, crashed or failed its init: the next invocation
        starts another."""
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def log_offset(self) -> int:
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

    def logs_since(self, offset: int) -> str:
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(offset)
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    def run_invocation(self, invocation: dict[str, str]) -> None:
        request_id = invocation["invoke-id"]
        started = time.time()
        deadline = started + self.timeout
        offset = self.log_offset()
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)

        outcome: tuple[str, bytes]
        init_error = self.ensure_worker(deadline)
        if init_error is not None:
            outcome = ("error", json.dumps(init_error).encode())
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
                self.drop_worker()
                lost = _lambda_error(error_type, f"RequestId: {request_id} Error: {detail}")
                outcome = ("error", json.dumps(lost).encode())
            elif "error" in message:
                outcome = ("error", json.dumps(message["error"]).encode())
            else:
                outcome = ("response", message["result"].encode())

        duration_ms = (time.time() - started) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        report = f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        if self.pending_init_ms is not None:
            report += f"\tInit Duration: {self.pending_init_ms:.2f} ms"
            self.pending_init_ms = None
        print(report, flush=True)
        logs = self.logs_since(offset)
        _post(f"/invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())
        kind, body = outcome
        _post(f"/invocations/{request_id}/{kind}", body)

    def serve_invocations(self) -> None:
        while True:
            invocation = self.invocations.get()
            try:
                self.run_invocation(invocation)
            except Exception:  # keep the environment alive whatever one invocation did
                traceback.print_exc()


def main() -> None:
    supervisor = Supervisor()

    class InvokeHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/invoke":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            supervisor.invocations.put(json.loads(self.rfile.read(length)))
            # Answer at once; the result goes back through the runtime endpoint.
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["HOST_LAMBDA_PORT"])), InvokeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # The init phase runs before ready is reported, as in AWS; an init error is kept and
    # reported by the first invocation (ensure_worker runs init again then).
    init_error = supervisor.ensure_worker(time.time() + max(supervisor.timeout, 10.0))
    if init_error is not None:
        print(json.dumps(init_error), file=sys.stderr, flush=True)
    _post(f"/status/{RUNTIME_ID}/ready", b"{}")

    def stop(*_: Any) -> None:
        if supervisor.worker is not None:
            supervisor.worker.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    supervisor.serve_invocations()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
