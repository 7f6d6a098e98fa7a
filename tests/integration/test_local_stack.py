"""The local stack listens on 127.0.0.1 only: LocalStack, SecantusDB and every Lambda
execution environment the host executor started."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.stack import LOCALSTACK_PORT, MONGO_PORT, require_stack
from tests.support.tools import commands, installed

ROOT = Path(__file__).resolve().parents[2]
PID_FILES = [
    Path(os.environ.get("PAGEWISE_HOME", ROOT / ".pagewise")) / "pids" / f"{name}.pid"
    for name in ("localstack", "secantus")
]


def _descendants(roots: set[int]) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found


@installed(commands("ss"), "ss (iproute2)")
def test_everything_the_stack_started_listens_on_loopback_only() -> None:
    require_stack()
    if not all(path.exists() for path in PID_FILES):
        pytest.fail("the stack was not started by localstack/stack.sh (no PID files)")
    pids = _descendants({int(path.read_text()) for path in PID_FILES})
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True)
    ours = []
    for line in listening.stdout.splitlines():
        owners = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            ours.append(line.split()[3])  # Local Address:Port
    assert any(address.endswith(f":{LOCALSTACK_PORT}") for address in ours)
    assert any(address.endswith(f":{MONGO_PORT}") for address in ours)
    assert all(address.startswith("127.0.0.1:") for address in ours), ours
