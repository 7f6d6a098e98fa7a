"""The commands of the legal reader (issue 17): ``usage`` and ``glossary``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pagewise_client.cli.connection import Connection, call
from pagewise_client.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from pagewise_client.cli.formatting import say


def _money(value: Any) -> str:
    return f"{float(value or 0):.4f} USD"


def cmd_usage(args: argparse.Namespace, connection: Connection) -> int:
    report = call(connection, lambda: connection.client.usage(args.start, args.end))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    rows = [
        ("period", f"{report['start']} to {report['end']}"),
        (
            "jobs",
            f"{report['jobs']} ({report['jobs_completed']} completed, "
            f"{report['jobs_failed']} failed)",
        ),
        ("pages", str(report["pages"])),
        (
            "tokens",
            f"{report['total_tokens']} ({report['prompt_tokens']} in, "
            f"{report['completion_tokens']} out)",
        ),
        ("cost", _money(report["cost"])),
    ]
    if report.get("jobs_without_price"):
        rows.append(("unpriced", f"{report['jobs_without_price']} jobs (model has no price)"))
    for label, value in rows:
        print(f"{label:<8} {value}")
    return EXIT_OK


def cmd_glossary(args: argparse.Namespace, connection: Connection) -> int:
    client = connection.client
    if args.action != "list" and not args.name:
        raise CliError(EXIT_USAGE, f"glossary {args.action} needs a NAME")
    answer: dict[str, Any]
    if args.action == "put":
        if args.file is None:
            raise CliError(EXIT_USAGE, "glossary put needs a FILE (.csv or .json)")
        try:
            body = args.file.read_bytes()
        except OSError as error:
            raise CliError(EXIT_USAGE, f"cannot read {args.file}: {error.strerror}") from error
        kind = "text/csv" if args.file.suffix.lower() == ".csv" else "application/json"
        answer = call(
            connection,
            lambda: client.put_glossary(
                args.name, body, kind, source_language=args.source_language
            ),
        )
        say(f"glossary {answer['name']} saved (version {answer['version']})")
    elif args.action == "get":
        answer = call(connection, lambda: client.glossary(args.name))
    elif args.action == "delete":
        answer = call(connection, lambda: client.delete_glossary(args.name))
    else:
        answer = call(connection, client.glossaries)
    if args.json or args.action in ("put", "delete"):
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif args.action == "get":
        for entry in answer["entries"]:
            note = f"  ({entry['note']})" if entry.get("note") else ""
            print(f"{entry['source']} → {entry['target']}{note}")
    else:
        for item in answer["glossaries"]:
            print(f"{item['name']:<24} {item['entry_count']:>4} entries  version {item['version']}")
    return EXIT_OK
