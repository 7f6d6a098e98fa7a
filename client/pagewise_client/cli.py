"""pagewise: send documents to Pagewise and follow them, from a terminal or a script.

Results go to stdout (a job id, a PDF's path, a status, a table), progress and errors to
stderr, so `JOB=$(pagewise submit contract.pdf)` and `pagewise status "$JOB" --json | jq`
work as expected.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import jwt
import requests

from pagewise_client.api import CONTENT_TYPES, FINAL_STATUSES, ApiError, PagewiseClient
from pagewise_client.local import local_token, stack_outputs

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_API = 5
EXIT_NOT_READY = 6
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_JOB_FAILED}    the job failed (submit --wait, download); its error is on stderr
  {EXIT_USAGE}    usage: bad arguments, an unreadable or unsupported file, no API URL,
       an --out folder that cannot be written, or a request the API refused (400/413/422)
  {EXIT_AUTH}    authentication: no token, or the API refused it (401/403)
  {EXIT_NOT_FOUND}    not found: no such job for this token's tenant (another tenant's job too)
  {EXIT_API}    the API or S3 failed or could not be reached (5xx, 429, network, timeout)
  {EXIT_NOT_READY}    not ready: download of an unfinished job, or --wait ran past --timeout
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); a submitted job keeps running

configuration (flags win over the environment):
  --api-url / PAGEWISE_API_URL   the API's base URL; default: the local stack's ApiUrl output
  --token   / PAGEWISE_TOKEN     a bearer JWT; default on the local stack: a local token
  --tenant  / PAGEWISE_TENANT    the subject of that local token (default: demo)
"""

DEFAULT_TENANT = "demo"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
BAR_WIDTH = 24


class CliError(Exception):
    """A failure to report in one line, with its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Connection:
    client: PagewiseClient
    tenant: str | None  # the token's subject, for messages


# ---------------------------------------------------------------------------- configuration


def _is_local(api_url: str) -> bool:
    host = urlsplit(api_url).hostname or ""
    return host in LOCAL_HOSTS or host.endswith(".localhost.localstack.cloud")


def _subject(token: str) -> str | None:
    """The token's `sub`, read without checking the signature (the API checks it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return str(subject) if subject else None


def _why(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        lines = [line for line in str(error.stderr or "").splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()[:200]
    return f"{type(error).__name__}: {error}"[:200]


def connect(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Connection:
    env = os.environ if environ is None else environ
    api_url = getattr(args, "api_url", None) or env.get("PAGEWISE_API_URL")
    from_stack = False
    if not api_url:
        try:
            api_url = stack_outputs()["ApiUrl"]
        except (OSError, subprocess.CalledProcessError, KeyError, ValueError) as error:
            raise CliError(
                EXIT_USAGE,
                "no API URL: pass --api-url or set PAGEWISE_API_URL; the local stack's "
                f"outputs are not available ({_why(error)}): is it running? `make up`",
            ) from error
        from_stack = True
    api_url = api_url.rstrip("/")
    if urlsplit(api_url).scheme not in ("http", "https") or not urlsplit(api_url).hostname:
        raise CliError(EXIT_USAGE, f"the API URL {api_url!r} is not an http(s) URL")
    token = getattr(args, "token", None) or env.get("PAGEWISE_TOKEN")
    if token:
        if getattr(args, "tenant", None):
            _say("pagewise: --tenant is ignored: the token's subject is the tenant")
        return Connection(PagewiseClient(api_url, token), _subject(token))
    if not (from_stack or _is_local(api_url)):
        raise CliError(EXIT_AUTH, "no token: pass --token or set PAGEWISE_TOKEN")
    # The local stack: sign a token as its settings say (README "Local tokens").
    tenant = getattr(args, "tenant", None) or env.get("PAGEWISE_TENANT") or DEFAULT_TENANT
    return Connection(PagewiseClient(api_url, local_token(tenant)), tenant)


# ---------------------------------------------------------------------------- API errors


def _message(body: str) -> tuple[str | None, str]:
    """(error_code, message) of an API error body, or of S3's XML, or the text itself."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = parsed.get("message") or parsed.get("detail") or parsed.get("Message") or body
        return parsed.get("error_code"), str(text)
    code = re.search(r"<Code>([^<]*)</Code>", body)
    message = re.search(r"<Message>([^<]*)</Message>", body)
    if code or message:
        return (code.group(1) if code else None), (message.group(1) if message else body)
    return None, " ".join(body.split())[:300] or "(no body)"


def _api_error(error: ApiError, job_id: str | None, tenant: str | None) -> CliError:
    code, message = _message(error.body)
    status = error.status
    if status == 401:
        return CliError(
            EXIT_AUTH,
            "the API refused the token (401): check --token or PAGEWISE_TOKEN "
            "(expired? wrong issuer, audience or key?)",
        )
    if status == 403:
        return CliError(EXIT_AUTH, f"the API refused the request (403): {message}")
    if status == 404:
        if job_id is not None:
            whose = f" for tenant {tenant!r}" if tenant else ""
            return CliError(EXIT_NOT_FOUND, f"job {job_id} not found{whose}")
        return CliError(EXIT_NOT_FOUND, f"not found (404): {message}")
    if status in (400, 413, 422):
        label = f"{code}: " if code else ""
        return CliError(EXIT_USAGE, f"the API refused the request ({status}): {label}{message}")
    return CliError(EXIT_API, f"the API answered HTTP {status}: {message}")


def call[T](
    connection: Connection, action: Callable[[], T], job_id: str | None = None, what: str = ""
) -> T:
    """Run one API call, turning every way it can fail into a CliError with its exit code."""
    try:
        return action()
    except ApiError as error:
        raise _api_error(error, job_id, connection.tenant) from error
    except requests.Timeout as error:
        raise CliError(
            EXIT_API, f"the API at {connection.client.base_url} did not answer in time"
        ) from error
    except requests.ConnectionError as error:
        raise CliError(
            EXIT_API, f"cannot reach the API at {connection.client.base_url}{what}"
        ) from error
    except requests.RequestException as error:
        raise CliError(EXIT_API, f"request failed: {error}") from error
    except (ValueError, KeyError) as error:  # an answer that is not the JSON expected
        raise CliError(EXIT_API, f"unexpected answer from the API ({error})") from error


# ---------------------------------------------------------------------------- output


def _parse_time(value: Any) -> datetime | None:
    """An API timestamp as an aware UTC datetime (one without a zone is UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _when(value: Any) -> str:
    moment = _parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _duration(ms: int | float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _pages(details: Mapping[str, Any]) -> tuple[int, int, int | None]:
    return (
        int(details.get("current_page") or 0),
        int(details.get("pages_translated") or 0),
        details.get("total_pages"),
    )


class Progress:
    """A one-line progress bar on a terminal (redrawn with \\r), one line per change otherwise."""

    def __init__(self, stream: TextIO, started: float, tty: bool | None = None) -> None:
        self.stream = stream
        self.started = started
        if tty is None:
            tty = stream.isatty() and os.environ.get("TERM") != "dumb"
        self.tty = tty
        self._last: tuple[Any, ...] | None = None
        self._width = 0

    def line(self, details: Mapping[str, Any]) -> str:
        status = str(details.get("processing_status", "?"))
        read, translated, total = _pages(details)
        # Reading and translating the pages fill 90% of the bar; the summary and the PDF
        # (summarising, rendering) the rest, so a full bar means the job is done.
        if status == "completed":
            fraction = 1.0
        elif total:
            fraction = min(0.9, 0.9 * (read + translated) / (2 * total))
        else:
            fraction = 0.0
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        of = str(total) if total else "?"
        elapsed = time.monotonic() - self.started
        return f"[{bar}] read {read}/{of}, translated {translated}/{of}  {status}  {elapsed:5.1f}s"

    def update(self, details: Mapping[str, Any]) -> None:
        key = (details.get("processing_status"), *_pages(details))
        if self.tty:
            # Never wider than the terminal: a wrapped line cannot be redrawn with \r.
            text = self.line(details)[: shutil.get_terminal_size().columns - 1]
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        elif key != self._last:
            self.stream.write(self.line(details) + "\n")
        self._last = key
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _job_failure(job_id: str, details: Mapping[str, Any]) -> CliError:
    code = details.get("error_code") or "failed"
    message = details.get("error_message") or "no error message"
    return CliError(EXIT_JOB_FAILED, f"job {job_id} failed: {code}: {message}")


# ---------------------------------------------------------------------------- commands


def _check_file(path: Path) -> None:
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


def _output_dir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(EXIT_USAGE, f"cannot create {out}: {error.strerror}") from error
    if not os.access(out, os.W_OK):
        raise CliError(EXIT_USAGE, f"cannot write to {out}")
    return out


def _download(connection: Connection, job_id: str, details: Mapping[str, Any], out: Path) -> Path:
    stem = Path(str(details.get("file_name") or "")).stem or job_id
    target = _output_dir(out) / f"{stem}_translated.pdf"
    try:
        return call(connection, lambda: connection.client.download(job_id, target), job_id)
    except OSError as error:
        raise CliError(EXIT_USAGE, f"cannot write {target}: {error.strerror}") from error


def _wait(
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
        _say(f"stopped waiting; job {job_id} keeps running: pagewise status {job_id}")
        raise
    finally:
        progress.close()


def cmd_submit(args: argparse.Namespace, connection: Connection) -> int:
    path: Path = args.file  # main checked it (_check_file) before connecting
    if args.out is not None:
        _output_dir(args.out)
    extra: dict[str, Any] = {"layout": args.layout}
    if args.source_language:
        extra["source_language"] = args.source_language
    if args.client_name:
        extra["client_name"] = args.client_name
    started = time.monotonic()
    created = call(connection, lambda: connection.client.create_job(path, **extra))
    job_id = str(created["job_id"])
    _say(f"job {job_id} created; uploading {path} ({_size(path.stat().st_size)}) to S3")
    try:
        connection.client.upload(created["upload"], path)
    except (ApiError, requests.RequestException) as error:
        if isinstance(error, ApiError):
            code, message = _message(error.body)
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
        _say(f"uploaded; follow it with: pagewise status {job_id}")
        print(job_id)
        return EXIT_OK
    final = _wait(connection, job_id, args.timeout, args.interval, started)
    details = final["details"]
    if details["processing_status"] != "completed":
        raise _job_failure(job_id, details)
    target = _download(connection, job_id, details, args.out or Path("."))
    summary = " ".join(str(details.get("summary") or "").split())
    _say(f"job {job_id} completed in {time.monotonic() - started:.1f}s")
    if summary:
        _say(f"summary: {summary[:300]}{'…' if len(summary) > 300 else ''}")
    print(target.resolve())
    return EXIT_OK


def cmd_status(args: argparse.Namespace, connection: Connection) -> int:
    status = call(connection, lambda: connection.client.status(args.job), args.job)
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return EXIT_OK
    details = status["details"]
    workflow = status.get("workflow") or {}
    read, translated, total = _pages(details)
    of = total if total is not None else "?"
    rows = [
        ("job", status["job_id"]),
        ("file", details.get("file_name") or "-"),
        ("status", details["processing_status"]),
        ("pages", f"{read}/{of} read, {translated}/{of} translated"),
        ("created", _when(details.get("created_at"))),
    ]
    if details.get("completed_at"):
        rows.append(("completed", _when(details["completed_at"])))
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
        raise _job_failure(args.job, details)
    if state != "completed":
        read, translated, total = _pages(details)
        raise CliError(
            EXIT_NOT_READY,
            f"job {args.job} is not finished yet ({state}, {read}/{total or '?'} pages read, "
            f"{translated} translated); wait with: pagewise status {args.job}",
        )
    target = _download(connection, args.job, details, args.out)
    print(target.resolve())
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
        _say(f"no jobs{whose}")
        return EXIT_OK
    print(f"{'JOB':<24}  {'CREATED':<19}  {'STATUS':<21}  {'PAGES':>5}  FILE")
    for job in jobs:
        created = _parse_time(job.get("created_at"))
        when = created.strftime("%Y-%m-%d %H:%M:%S") if created else "-"
        total = job.get("total_pages")
        pages = f"{job.get('current_page', 0)}/{total}" if total else "-"
        print(
            f"{job['job_id']:<24}  {when:<19}  {job['status']:<21}  {pages:>5}  {job['file_name']}"
        )
    return EXIT_OK


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
    started = _parse_time(history.get("started_at"))
    lines = [
        f"job {job_id}  execution {history['status']}  started {_when(history.get('started_at'))}"
        f"  took {_duration(history.get('duration_ms')) if history.get('stopped_at') else '-'}",
        f"execution {history['execution_arn']}",
    ]
    if history.get("error"):
        lines.append(f"error: {history['error']}: {history.get('cause') or ''}".rstrip(": "))
    lines.append("")
    lines.append(f"{'STATE':<30} {'START':>9} {'DURATION':>9} {'RETRIES':>7}  RESULT")
    for state in history.get("states", []):
        entered = _parse_time(state.get("entered_at"))
        offset = f"+{(entered - started).total_seconds():.2f}s" if entered and started else "-"
        name = "  " * int(state.get("depth") or 0) + str(state["state"])
        duration = _duration(state.get("duration_ms"))
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


# ---------------------------------------------------------------------------- arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from error
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not more than 0")
    return value


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pagewise-client")
    except Exception:  # not installed as a distribution (e.g. run from the source tree)
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    # The connection flags work before or after the command (`pagewise --token T list` and
    # `pagewise list --token T`): SUPPRESS keeps a subcommand from erasing the main one's.
    common = argparse.ArgumentParser(add_help=False)
    connection = common.add_argument_group("connection")
    connection.add_argument(
        "--api-url", default=argparse.SUPPRESS, help="the API base URL (PAGEWISE_API_URL)"
    )
    connection.add_argument(
        "--token", default=argparse.SUPPRESS, help="a bearer JWT (PAGEWISE_TOKEN)"
    )
    connection.add_argument(
        "--tenant",
        default=argparse.SUPPRESS,
        help="local stack only: the subject of the local token (PAGEWISE_TENANT, default demo)",
    )
    formatter = argparse.RawDescriptionHelpFormatter
    # argparse's own errors exit with 2, EXIT_USAGE.
    parser = argparse.ArgumentParser(
        prog="pagewise",
        description="Send documents to Pagewise (OCR, translation, summary) and follow them.",
        epilog=EXIT_CODES,
        formatter_class=formatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"pagewise {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=formatter,
            parents=[common],
        )

    submit = command("submit", "upload a document (presigned POST straight to S3)")
    submit.add_argument("file", type=Path, help="a PDF, PNG, JPEG or TIFF")
    submit.add_argument(
        "--wait",
        action="store_true",
        help="follow the job with a progress bar, then download the translated PDF",
    )
    submit.add_argument(
        "--out", type=Path, default=None, help="folder for the PDF (with --wait; default: .)"
    )
    submit.add_argument(
        "--source-language", help="ISO 639-1 (es) or Tesseract (spa) code; detected if absent"
    )
    submit.add_argument(
        "--layout",
        choices=["standard", "bilingual"],
        default="standard",
        help="standard: legal and plain English; bilingual: source and translation side by side",
    )
    submit.add_argument("--client-name", help="stored with the job")
    submit.add_argument(
        "--timeout",
        type=_positive_float,
        default=1800.0,
        help="with --wait: give up waiting after this many seconds (default 1800)",
    )
    submit.add_argument(
        "--interval",
        type=_positive_float,
        default=1.0,
        help="with --wait: seconds between status checks (default 1)",
    )
    submit.set_defaults(handler=cmd_submit)

    status = command("status", "a job's status, pages, error and summary")
    status.add_argument("job", help="the job id")
    status.add_argument("--json", action="store_true", help="the API's answer, as JSON")
    status.set_defaults(handler=cmd_status)

    download = command("download", "download a completed job's translated PDF")
    download.add_argument("job", help="the job id")
    download.add_argument("--out", type=Path, default=Path("."), help="folder (default: .)")
    download.set_defaults(handler=cmd_download)

    listing = command("list", "your jobs, newest first")
    listing.add_argument("--limit", type=_positive_int, default=20, help="how many (default 20)")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(handler=cmd_list)

    trace = command(
        "trace",
        "the job's Step Functions execution as a timeline: each state (each page of a Map), "
        "when it started, how long it took, its retries and its error",
    )
    trace.add_argument("job", help="the job id")
    trace.add_argument("--json", action="store_true", help="the API's answer, as JSON")
    trace.set_defaults(handler=cmd_trace)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "submit" and args.out is not None and not args.wait:
        parser.error("submit: --out needs --wait (the PDF exists only once the job completes)")
    try:
        if args.command == "submit":
            _check_file(args.file)  # before looking for the API: the file may be the problem
        connection = connect(args)
        handler: Callable[[argparse.Namespace, Connection], int] = args.handler
        return handler(args, connection)
    except CliError as error:
        _say(f"pagewise: {error.message}")
        return error.code
    except KeyboardInterrupt:
        _say("pagewise: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `pagewise list | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
