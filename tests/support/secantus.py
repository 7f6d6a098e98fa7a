"""SecantusDB in memory on a free 127.0.0.1 port: the MongoDB-wire server of the unit tests
and of the in-process benchmarks."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[2]
SECANTUS_PYTHON = ROOT / ".venvs" / "secantus" / "bin" / "python"
# SecantusDB's server with the planner fix the stack runs too (localstack/secantusd.py).
SECANTUSD = ROOT / "localstack" / "secantusd.py"


def start_in_memory_secantus(timeout: float = 30) -> tuple[subprocess.Popen[bytes], str]:
    """The server's process and its URI, once it answers a ping; RuntimeError if it is not
    installed or does not start within ``timeout`` seconds (the process is then killed)."""
    if not SECANTUS_PYTHON.exists():
        raise RuntimeError("SecantusDB is not installed: run `make setup`")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [
            str(SECANTUS_PYTHON),
            str(SECANTUSD),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false"
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.admin.command("ping")
                return process, uri
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise RuntimeError("SecantusDB did not start") from None
                time.sleep(0.2)
    finally:
        client.close()


def stop_secantus(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)
