"""`make demo`: one document through the deployed local stack, exactly as a client would.

Creates a job through the API Gateway URL, uploads the file with the presigned POST, polls the
status (printing each change), downloads the translated PDF and says where it is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pagewise_client.api import PagewiseClient
from pagewise_client.local import local_token, stack_outputs


def _show(status: dict[str, Any], started: float) -> None:
    details = status["details"]
    pages = f"{details['current_page']}/{details['total_pages'] or '?'} pages"
    print(
        f"  {time.monotonic() - started:6.1f}s  {details['processing_status']:<22} {pages}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--tenant", default="demo")
    args = parser.parse_args(argv)

    api_url = stack_outputs()["ApiUrl"]
    client = PagewiseClient(api_url, local_token(args.tenant))
    print(f"API: {api_url}")
    started = time.monotonic()
    created = client.create_job(args.file)
    print(f"job {created['job_id']} created; uploading {args.file} directly to S3")
    client.upload(created["upload"], args.file)
    final = client.wait(created["job_id"], on_change=lambda status: _show(status, started))
    details = final["details"]
    if details["processing_status"] != "completed":
        print(f"job failed: {details['error_code']}: {details['error_message']}", file=sys.stderr)
        return 1
    target = client.download(created["job_id"], args.out / f"{args.file.stem}_translated.pdf")
    print(f"done in {time.monotonic() - started:.1f}s; summary: {details['summary'][:200]}")
    print(f"translated PDF: {target.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
