"""The ``submit`` command: check the file, create the job, upload, and optionally wait."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import requests

from pagewise_client.api import CONTENT_TYPES, FINAL_STATUSES, ApiError
from pagewise_client.cli.connection import Connection, call, parse_error_body
from pagewise_client.cli.errors import EXIT_API, EXIT_NOT_READY, EXIT_OK, EXIT_USAGE, CliError
from pagewise_client.cli.formatting import Progress, format_size, say
from pagewise_client.cli.jobs import download_pdf, job_failure, output_dir


def check_file(path: Path) -> None:
    if not path.exists():
        raise CliError(EXIT_USAGE, f"{path}: no such file")
    if not path.is_file():
        raise CliError(EXIT_USAGE, f"{path}: not a file")
    if path.suffix.lower() not in CONTENT_TYPES:
        accepted = ", ".join(sorted(CONTENT_TYPES))
        raise CliError(EXIT_USAGE, f"{path}: unsupported file type (send one of {accepted})")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as error:
        raise CliError(EXIT_USAGE, f"{path}: cannot read it ({error.strerror})") from error
    if size == 0:
        raise CliError(EXIT_USAGE, f"{path}: the file is empty")


def wait_for(
    connection: Connection, job_id: str, timeout: float, interval: float, started: float
) -> dict[str, Any]:
    progress = Progress(sys.stderr, started)
    deadline = time.monotonic() + timeout
    try:
        while True:
            status = call(connection, lambda: connection.client.status(job_id), job_id)
            details = status["details"]
            progress.update(details)
            if details["processing_status"] in FINAL_STATUSES:
                return status
            if time.monotonic() > deadline:
                progress.close()
                raise CliError(
                    EXIT_NOT_READY,
                    f"job {job_id} is still {details['processing_status']} after {timeout:g}s; "
                    f"it keeps running: pagewise status {job_id}",
                )
            time.sleep(interval)
    except KeyboardInterrupt:
        progress.close()
        say(f"stopped waiting; job {job_id} keeps running: pagewise status {job_id}")
        raise
    finally:
        progress.close()


def cmd_submit(args: argparse.Namespace, connection: Connection) -> int:
    path: Path = args.file  # main checked it (check_file) before connecting
    if args.out is not None:
        output_dir(args.out)
    extra: dict[str, Any] = {"layout": args.layout}
    if args.source_language:
        extra["source_language"] = args.source_language
    if args.client_name:
        extra["client_name"] = args.client_name
    if args.glossary:
        extra["glossary"] = args.glossary
    if args.max_cost is not None:
        extra["max_cost"] = args.max_cost
    started = time.monotonic()
    created = call(connection, lambda: connection.client.create_job(path, **extra))
    job_id = str(created["job_id"])
    say(f"job {job_id} created; uploading {path} ({format_size(path.stat().st_size)}) to S3")
    try:
        connection.client.upload(created["upload"], path)
    except (ApiError, requests.RequestException) as error:
        if isinstance(error, ApiError):
            code, message = parse_error_body(error.body)
            reason = f"S3 refused it (HTTP {error.status}): {f'{code}: ' if code else ''}{message}"
        else:
            reason = f"S3 could not be reached at {created['upload'].get('url')} ({error})"
        # Leave no job waiting for a file that will never come.
        with contextlib.suppress(ApiError, requests.RequestException):
            connection.client.cancel(job_id)
        raise CliError(
            EXIT_API, f"the upload of {path} failed, job {job_id} cancelled: {reason}"
        ) from error
    if not args.wait:
        say(f"uploaded; follow it with: pagewise status {job_id}")
        print(job_id)
        return EXIT_OK
    final = wait_for(connection, job_id, args.timeout, args.interval, started)
    details = final["details"]
    if details["processing_status"] != "completed":
        raise job_failure(job_id, details)
    target = download_pdf(connection, job_id, details, args.out or Path("."))
    summary = " ".join(str(details.get("summary") or "").split())
    say(f"job {job_id} completed in {time.monotonic() - started:.1f}s")
    if summary:
        say(f"summary: {summary[:300]}{'…' if len(summary) > 300 else ''}")
    print(target.resolve())
    return EXIT_OK
