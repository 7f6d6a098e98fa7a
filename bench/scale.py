"""Scale: N jobs of P pages (page 1 scanned, the others born-digital) submitted at once
through the API. Every job must complete with all its pages, under exactly one execution
(none lost, none run twice); the figures are the time to drain them all, the throughput, and
the peak memory (RSS sum) of the whole local stack sampled every 0.5 s during the run:
LocalStack's process tree (its Lambda environments counted apart) and the MongoDB-wire
server, found through the PID files localstack/stack.sh writes. Baseline: the same sum,
sampled just before the jobs are submitted.

Needs the local stack (`make up`). Usage: python bench/scale.py [--jobs 20] [--pages 5] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchkit import (
    Figure,
    MemorySampler,
    aws,
    client,
    execution_arn,
    make_pdf,
    stack_memory,
    submit,
    table,
)

BENCHMARK = "Scale"


def run(jobs: int, pages: int, timeout_seconds: float = 3600) -> list[Figure]:
    api = client("bench-scale")
    idle = stack_memory()
    with tempfile.TemporaryDirectory() as tmp:
        files = [
            make_pdf(Path(tmp) / f"job-{n}.pdf", scanned=1, digital=pages - 1) for n in range(jobs)
        ]
        with MemorySampler() as sampler:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                job_ids = [job_id for job_id, _, _ in pool.map(lambda f: submit(api, f), files)]
            submitted = time.monotonic() - started
            pending, finals = set(job_ids), {}
            deadline = time.monotonic() + timeout_seconds
            while pending and time.monotonic() < deadline:
                for job_id in list(pending):
                    details: dict[str, Any] = api.status(job_id)["details"]
                    if details["processing_status"] in ("completed", "failed"):
                        finals[job_id] = details
                        pending.discard(job_id)
                time.sleep(0.5)
            drained = time.monotonic() - started
    failed = {
        j: d["error_code"] for j, d in finals.items() if d["processing_status"] != "completed"
    }
    short = {j: d["total_pages"] for j, d in finals.items() if d["total_pages"] != pages}
    sfn = aws("stepfunctions")
    not_succeeded = {
        job_id: status
        for job_id in finals
        if (status := sfn.describe_execution(executionArn=execution_arn(job_id))["status"])
        != "SUCCEEDED"
    }
    # describe_execution by name: one execution per job, since the name is the job id.
    problems = {
        "never finished": sorted(pending),
        "failed": failed,
        "wrong page count": short,
        "execution not SUCCEEDED": not_succeeded,
    }
    if any(problems.values()):
        raise SystemExit(f"scale run lost or failed jobs: {problems}")
    peak = sampler.peak or idle
    completed = len(finals)
    return [
        Figure(
            BENCHMARK,
            f"{jobs} jobs x {pages} pages at once: completed",
            completed,
            "jobs",
            "submitted",
            jobs,
            f"0 lost, 0 failed, one execution each; submitted in {submitted:.1f} s",
        ),
        Figure(
            BENCHMARK,
            f"{jobs} jobs x {pages} pages: submit to all completed",
            drained,
            "s",
            note=f"{jobs * pages * 60 / drained:.1f} pages/min ({jobs} scanned pages)",
        ),
        Figure(
            BENCHMARK,
            "peak RSS of the local stack during the run",
            peak.total_mb,
            "MB",
            "idle, just before",
            idle.total_mb,
            f"LocalStack {peak.localstack_mb:.0f} MB + {peak.lambda_processes} Lambda processes "
            f"{peak.lambda_mb:.0f} MB + MongoDB-wire {peak.mongo_mb:.0f} MB; "
            f"{sampler.samples} samples",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="2 jobs x 1 page")
    args = parser.parse_args()
    jobs, pages = (2, 1) if args.smoke else (args.jobs, args.pages)
    print(table(run(jobs, pages)))


if __name__ == "__main__":
    main()
