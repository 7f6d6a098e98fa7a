"""50 small jobs submitted at once through the API: every one completes, none is lost, none
runs twice. The figures (time to drain, failures) are printed for the reliability notes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from tests.stack import aws_client, new_tenant, outputs, require_stack, stack_client

JOBS = 50
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _one_page_pdf(path: Path, number: int) -> Path:
    with pymupdf.open() as doc:
        page = doc.new_page()
        page.insert_text(
            (72, 100), f"Contrato número {number}. Las partes acuerdan lo siguiente.", fontsize=12
        )
        doc.save(path)
    return path


def test_fifty_jobs_at_once_all_complete_exactly_once(tmp_path: Path) -> None:
    require_stack()
    client = stack_client(new_tenant("load"))
    files = [_one_page_pdf(tmp_path / f"doc-{n}.pdf", n) for n in range(JOBS)]

    def submit(path: Path) -> str:
        created = client.create_job(path)
        client.upload(created["upload"], path)
        return str(created["job_id"])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        job_ids = list(pool.map(submit, files))
    submitted = time.monotonic() - started

    pending = set(job_ids)
    finals: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 900
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            details = client.status(job_id)["details"]
            if details["processing_status"] in ("completed", "failed"):
                finals[job_id] = details
                pending.discard(job_id)
        time.sleep(1)
    drained = time.monotonic() - started

    assert not pending, f"{len(pending)} jobs never finished: {sorted(pending)[:5]}"
    failed = {job_id: d["error_message"] for job_id, d in finals.items() if d["error_code"]}
    assert not failed, failed
    sfn = aws_client("stepfunctions")
    names = [
        execution["name"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=outputs()["StateMachineArn"]
        )
        for execution in page["executions"]
    ]
    assert all(names.count(job_id) == 1 for job_id in job_ids)
    print(
        f"\nload: {JOBS} jobs submitted in {submitted:.1f} s, all completed after "
        f"{drained:.1f} s, failures 0"
    )
