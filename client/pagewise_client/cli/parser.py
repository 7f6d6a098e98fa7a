"""The command line's arguments: the connection flags, each command and its options."""

from __future__ import annotations

import argparse
from pathlib import Path

from pagewise_client.cli.errors import EXIT_CODES
from pagewise_client.cli.jobs import VARIANTS, cmd_download, cmd_list, cmd_status
from pagewise_client.cli.legal import cmd_glossary, cmd_usage
from pagewise_client.cli.submit import cmd_submit
from pagewise_client.cli.trace import cmd_trace


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
        "--glossary", help="translate with this glossary of yours (pagewise glossary put)"
    )
    submit.add_argument(
        "--max-cost",
        type=float,
        default=None,
        help="USD: fail before any LLM call when the job's estimated cost is above this",
    )
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

    download = command("download", "download a completed job's translated PDF or other output")
    download.add_argument("job", help="the job id")
    download.add_argument("--out", type=Path, default=Path("."), help="folder (default: .)")
    download.add_argument(
        "--variant",
        choices=[*VARIANTS, "all"],
        default="report",
        help="report: the translated PDF (default); overlay: each page with the English in "
        "place; searchable: the original with an invisible text layer; docx: Word; all: each",
    )
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

    usage = command("usage", "your jobs, pages, LLM tokens and cost over a period")
    usage.add_argument("--from", dest="start", help="ISO date or time (default: 30 days ago)")
    usage.add_argument("--to", dest="end", help="ISO date or time, excluded (default: now)")
    usage.add_argument("--json", action="store_true", help="the API's answer, as JSON")
    usage.set_defaults(handler=cmd_usage)

    glossary = command(
        "glossary", "your glossaries: put NAME FILE (.csv or .json), get NAME, list, delete NAME"
    )
    glossary.add_argument("action", choices=["put", "get", "list", "delete"])
    glossary.add_argument("name", nargs="?", help="the glossary's name (not for list)")
    glossary.add_argument("file", nargs="?", type=Path, help="put: a .csv or .json file")
    glossary.add_argument("--source-language", help="put, CSV: the source terms' language")
    glossary.add_argument("--json", action="store_true", help="the API's answer, as JSON")
    glossary.set_defaults(handler=cmd_glossary)
    return parser
