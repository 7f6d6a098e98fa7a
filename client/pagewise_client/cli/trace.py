"""The ``trace`` command: the job's Step Functions execution as a timeline."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from pagewise_client.cli.connection import Connection, call
from pagewise_client.cli.errors import EXIT_OK
from pagewise_client.cli.formatting import format_duration, format_when, parse_time


def _retried(errors: list[str]) -> str:
    counts: dict[str, int] = {}
    for error in errors:
        counts[error] = counts.get(error, 0) + 1
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())


def render_trace(history: Mapping[str, Any]) -> list[str]:
    """The timeline as text lines: one per state, its error under it."""
    job_id = history["job_id"]
    if not history.get("execution_arn"):
        return [
            f"job {job_id} has no execution (job status: {history.get('processing_status')}); "
            "it starts once the upload arrives"
        ]
    started = parse_time(history.get("started_at"))
    took = format_duration(history.get("duration_ms")) if history.get("stopped_at") else "-"
    lines = [
        f"job {job_id}  execution {history['status']}"
        f"  started {format_when(history.get('started_at'))}  took {took}",
        f"execution {history['execution_arn']}",
    ]
    if history.get("error"):
        lines.append(f"error: {history['error']}: {history.get('cause') or ''}".rstrip(": "))
    lines.append("")
    lines.append(f"{'STATE':<30} {'START':>9} {'DURATION':>9} {'RETRIES':>7}  RESULT")
    for state in history.get("states", []):
        entered = parse_time(state.get("entered_at"))
        offset = f"+{(entered - started).total_seconds():.2f}s" if entered and started else "-"
        name = "  " * int(state.get("depth") or 0) + str(state["state"])
        duration = format_duration(state.get("duration_ms"))
        if state.get("status") == "running":
            duration = "running"
        result = str(state.get("status", "?"))
        if state.get("retry_errors"):
            result += f"  (retried after {_retried(state['retry_errors'])})"
        lines.append(f"{name:<30} {offset:>9} {duration:>9} {state.get('retries', 0):>7}  {result}")
        if state.get("error"):
            indent = " " * (2 * int(state.get("depth") or 0) + 4)
            cause = f": {state['cause']}" if state.get("cause") else ""
            lines.append(f"{indent}error: {state['error']}{cause}")
    return lines


def cmd_trace(args: argparse.Namespace, connection: Connection) -> int:
    history = call(connection, lambda: connection.client.history(args.job), args.job)
    if args.json:
        print(json.dumps(history, indent=2, ensure_ascii=False))
        return EXIT_OK
    for line in render_trace(history):
        print(line)
    return EXIT_OK
