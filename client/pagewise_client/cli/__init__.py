"""pagewise: send documents to Pagewise and follow them, from a terminal or a script.

Results go to stdout (a job id, a PDF's path, a status, a table), progress and errors to
stderr, so `JOB=$(pagewise submit contract.pdf)` and `pagewise status "$JOB" --json | jq`
work as expected.

Modules: :mod:`.parser` (arguments), :mod:`.connection` (API URL, token, one call),
:mod:`.submit`, :mod:`.jobs` (status, download, list) and :mod:`.trace` (the commands),
:mod:`.formatting` (output for people) and :mod:`.errors` (exit codes).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from pagewise_client.cli.connection import Connection, connect
from pagewise_client.cli.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from pagewise_client.cli.formatting import BAR_WIDTH, Progress, say
from pagewise_client.cli.parser import build_parser
from pagewise_client.cli.submit import check_file
from pagewise_client.cli.trace import render_trace


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "submit" and args.out is not None and not args.wait:
        parser.error("submit: --out needs --wait (the PDF exists only once the job completes)")
    try:
        if args.command == "submit":
            check_file(args.file)  # before looking for the API: the file may be the problem
        connection = connect(args)
        handler: Callable[[argparse.Namespace, Connection], int] = args.handler
        return handler(args, connection)
    except CliError as error:
        say(f"pagewise: {error.message}")
        return error.code
    except KeyboardInterrupt:
        say("pagewise: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `pagewise list | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


__all__ = [
    "BAR_WIDTH",
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_NOT_READY",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "Connection",
    "Progress",
    "build_parser",
    "connect",
    "main",
    "render_trace",
]
