"""The host Lambda executor's own cost: memory per execution environment and the round trip
of a warm invocation.

- Round trip: `lambda invoke` of the bench hello function (a bare Mangum app, so nearly all
  of the time is the path through LocalStack and the executor), synchronous, one at a time
  after a first call that starts its environment: median and 90th percentile of the client's
  wall time. Baseline: the median REPORT Duration of the same invocations (the handler's own
  time, measured inside the environment). Beside it, the CPU milliseconds per invocation of
  LocalStack and of the environment's processes (utime + stime from /proc/PID/stat).
- Memory: the processes of the function's environments (LocalStack's descendants whose
  environment names the function; grouped by the environment's LOCALSTACK_RUNTIME_ID):
  processes per environment, and RSS and PSS per environment (PSS, from
  /proc/PID/smaps_rollup, divides shared pages among the processes mapping them: what the
  machine really holds). LocalStack's own RSS and PSS beside them.

Needs the local stack (`make up`). Usage: python bench/executor_overhead.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

from benchkit import (
    ROOT,
    STATE_DIR,
    Figure,
    _children,
    _descendants,
    _rss_mb,
    aws,
    median,
    physical_id,
    pss_mb,
    reports,
    table,
)

BENCHMARK = "Executor overhead"
FUNCTION = "BenchHelloFunction"
EVENT = ROOT / "events" / FUNCTION / "hello.json"


def _environ(pid: int) -> dict[str, str]:
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    return dict(e.decode(errors="replace").split("=", 1) for e in entries if b"=" in e)


def environments(function_name: str) -> dict[str, list[int]]:
    """The PIDs of each live execution environment of the function, by runtime id."""
    root = int((STATE_DIR / "pids" / "localstack.pid").read_text())
    found: dict[str, list[int]] = defaultdict(list)
    for pid in _descendants(root, _children()):
        environ = _environ(pid)
        if environ.get("AWS_LAMBDA_FUNCTION_NAME") == function_name:
            found[environ.get("LOCALSTACK_RUNTIME_ID", "?")].append(pid)
    return found


def _cpu_ms(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    return total


def run(invocations: int) -> list[Figure]:
    name = physical_id(FUNCTION)
    lam = aws("lambda")
    payload = EVENT.read_bytes()

    def invoke() -> float:
        started = time.perf_counter()
        response = lam.invoke(FunctionName=name, Payload=payload)
        body = json.loads(response["Payload"].read())
        if response.get("FunctionError") or body.get("statusCode") != 200:
            raise SystemExit(f"bench hello failed: {body}")
        return (time.perf_counter() - started) * 1000

    invoke()  # starts an environment if none is warm
    localstack = int((STATE_DIR / "pids" / "localstack.pid").read_text())
    env_pids = [pid for pids in environments(name).values() for pid in pids]
    cpu_before = _cpu_ms([localstack]), _cpu_ms(env_pids)
    since_ms = int(time.time() * 1000)
    times = sorted(invoke() for _ in range(invocations))
    localstack_cpu = (_cpu_ms([localstack]) - cpu_before[0]) / invocations
    environment_cpu = (_cpu_ms(env_pids) - cpu_before[1]) / invocations
    durations = [r.duration_ms for r in reports(FUNCTION, since_ms)]
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]

    envs = environments(name)
    if not envs:
        raise SystemExit(f"no execution environment of {name} found under LocalStack")
    per_env = [pids for pids in envs.values()]
    rss = [sum(_rss_mb(pid) for pid in pids) for pids in per_env]
    pss = [sum(pss_mb(pid) for pid in pids) for pids in per_env]
    processes = [len(pids) for pids in per_env]
    return [
        Figure(
            BENCHMARK,
            f"bench hello warm invoke round trip, median of {invocations}",
            median(times),
            "ms",
            "the handler's REPORT Duration, median",
            median(durations) if durations else None,
            f"p90 {p90:.1f} ms; min {times[0]:.1f} ms; {len(durations)} REPORT lines",
        ),
        Figure(
            BENCHMARK,
            "CPU per warm invocation: LocalStack",
            localstack_cpu,
            "ms",
            note=f"the environment's processes: {environment_cpu:.1f} ms",
        ),
        Figure(
            BENCHMARK,
            "processes per execution environment",
            median(processes),
            "processes",
            note=f"{len(per_env)} environment(s) of bench hello",
        ),
        Figure(
            BENCHMARK,
            "RSS per execution environment (bench hello)",
            median(rss),
            "MB",
            note=f"LocalStack itself {_rss_mb(localstack):.0f} MB",
        ),
        Figure(
            BENCHMARK,
            "PSS per execution environment (bench hello)",
            median(pss),
            "MB",
            note=f"LocalStack itself {pss_mb(localstack):.0f} MB",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invocations", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="10 invocations")
    args = parser.parse_args()
    print(table(run(10 if args.smoke else args.invocations)))


if __name__ == "__main__":
    main()
