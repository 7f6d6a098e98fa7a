"""The host executor's bootstrap: its callbacks to LocalStack (plain HTTP on loopback) never
build an SSL context. Loading the system's CA certificates for every callback (two per
invocation) was most of an execution environment's supervisor CPU."""

from __future__ import annotations

import importlib.util
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
BOOTSTRAP = ROOT / "localstack/host_executor/src/pagewise_host_executor/bootstrap.py"


@pytest.fixture
def bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("host_bootstrap_under_test", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append((self.path, self.rfile.read(length)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/runtime", received
    server.shutdown()
    server.server_close()


def test_callbacks_reach_localstack_without_loading_certificates(
    bootstrap: ModuleType,
    endpoint: tuple[str, list[tuple[str, bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = endpoint
    monkeypatch.setattr(bootstrap, "RUNTIME_ENDPOINT", url)

    def no_certificates(*_: object, **__: object) -> None:
        raise AssertionError("a callback loaded CA certificates")

    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", no_certificates)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", no_certificates)
    bootstrap._post("/invocations/r-1/logs", b'{"logs": ""}')
    bootstrap._post("/invocations/r-1/response", b'{"ok": true}')
    assert received == [
        ("/runtime/invocations/r-1/logs", b'{"logs": ""}'),
        ("/runtime/invocations/r-1/response", b'{"ok": true}'),
    ]
