"""The commands on existing jobs: ``status``, ``download`` and ``list``."""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pagewise_client.cli.connection import Connection, call
from pagewise_client.cli.errors import (
    EXIT_JOB_FAILED,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from pagewise_client.cli.formatting import format_when, page_counts, parse_time, say


def job_failure(job_id: str, details: Mapping[str, Any]) -> CliError:
    code = details.get("error_code") or "failed"
    message = details.get("error_message") or "no error message"
    return CliError(EXIT_JOB_FAILED, f"job {job_id} failed: {code}: {message}")


def output_dir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(EXIT_USAGE, f"cannot create {out}: {error.strerror}") from error
    if not os.access(out, os.W_OK):
        raise CliError(EXIT_USAGE, f"cannot write to {out}")
    return out


# What `download --variant` offers (the API's ?variant=), and "all" for every one.
VARIANTS = ("report", "overlay", "searchable", "docx")


def download_pdf(
    connection: Connection,
    job_id: str,
    details: Mapping[str, Any],
    out: Path,
    variant: str = "report",
) -> Path:
    """One output into folder ``out``: the report as <stem>_translated.pdf, the others under
    the name the server gives."""
    stem = Path(str(details.get("file_name") or "")).stem or job_id
    folder = output_dir(out)
    target = folder / f"{stem}_translated.pdf" if variant == "report" else folder
    try:
        return call(connection, lambda: connection.client.download(job_id, target, variant), job_id)
    except OSError as error:
        raise CliError(EXIT_USAGE, f"cannot write {target}: {error.strerror}") from error


def cmd_status(args: argparse.Namespace, connection: Connection) -> int:
    status = call(connection, lambda: connection.client.status(args.job), args.job)
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return EXIT_OK
    details = status["details"]
    workflow = status.get("workflow") or {}
    read, translated, total = page_counts(details)
    of = total if total is not None else "?"
    rows = [
        ("job", status["job_id"]),
        ("file", details.get("file_name") or "-"),
        ("status", details["processing_status"]),
        ("pages", f"{read}/{of} read, {translated}/{of} translated"),
        ("created", format_when(details.get("created_at"))),
    ]
    if details.get("completed_at"):
        rows.append(("completed", format_when(details["completed_at"])))
    rows.append(("execution", workflow.get("state") or "-"))
    if details.get("error_code") or details.get("error_message"):
        rows.append(("error", f"{details.get('error_code')}: {details.get('error_message')}"))
    summary = " ".join(str(details.get("summary") or "").split())
    if summary:
        rows.append(("summary", summary[:400] + ("…" if len(summary) > 400 else "")))
    if status.get("download_url"):
        rows.append(("download", f"pagewise download {status['job_id']}"))
    for label, value in rows:
        print(f"{label:<10} {value}")
    return EXIT_OK


def cmd_download(args: argparse.Namespace, connection: Connection) -> int:
    status = call(connection, lambda: connection.client.status(args.job), args.job)
    details = status["details"]
    state = details["processing_status"]
    if state == "failed":
        raise job_failure(args.job, details)
    if state != "completed":
        read, translated, total = page_counts(details)
        raise CliError(
            EXIT_NOT_READY,
            f"job {args.job} is not finished yet ({state}, {read}/{total or '?'} pages read, "
            f"{translated} translated); wait with: pagewise status {args.job}",
        )
    variants = VARIANTS if args.variant == "all" else (args.variant,)
    for variant in variants:
        print(download_pdf(connection, args.job, details, args.out, variant).resolve())
    return EXIT_OK


def cmd_list(args: argparse.Namespace, connection: Connection) -> int:
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(jobs) < args.limit:
        size = min(100, args.limit - len(jobs))
        page = call(connection, functools.partial(connection.client.list_jobs, size, cursor))
        jobs.extend(page["jobs"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if args.json:
        print(json.dumps({"jobs": jobs}, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not jobs:
        whose = f" for tenant {connection.tenant!r}" if connection.tenant else ""
        say(f"no jobs{whose}")
        return EXIT_OK
    print(f"{'JOB':<24}  {'CREATED':<19}  {'STATUS':<21}  {'PAGES':>5}  FILE")
    for job in jobs:
        created = parse_time(job.get("created_at"))
        when = created.strftime("%Y-%m-%d %H:%M:%S") if created else "-"
        total = job.get("total_pages")
        pages = f"{job.get('current_page', 0)}/{total}" if total else "-"
        print(
            f"{job['job_id']:<24}  {when:<19}  {job['status']:<21}  {pages:>5}  {job['file_name']}"
        )
    return EXIT_OK
