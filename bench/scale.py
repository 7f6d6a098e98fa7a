"""Scale: N jobs of P pages (page 1 scanned, the others born-digital) submitted at once
through the API. Every job must complete with all its pages, under exactly one execution
(none lost, none run twice); the figures are the time to drain them all, the throughput, and
the peak memory (RSS sum) of the whole local stack sampled every 0.5 s during the run:
LocalStack's process tree (its Lambda environments, with the processes they start, counted
apart) and the MongoDB-wire server, found through the PID files localstack/stack.sh writes.
RSS comes from /proc/PID/statm (~3 ms a sample for the whole stack), so the sampling takes
next to no CPU from the stack it measures. Baseline: the same sum, sampled just before the
jobs are submitted. Beside it, the PSS sum of the same processes at the peak (read only when
a sample raises the RSS peak by more than 1 %, so at the peak sample or one within 1 % below
it: smaps_rollup costs ~75 ms for 35 environments): RSS counts the interpreter's and
libraries' shared pages once per process, PSS divides them among the processes sharing
them, so it is what the machine really holds.
The RSS sum stays the goal's figure (issue 16 set the goal in it).

Throughput: the load's pages/min (all pages, submit to the last job completed) next to the
best raw engine's (bench/ocr_throughput.py: the faster of the tesseract CLI and tesserocr in
process, one per core) reading the same 100 pages, measured after the load on the idle stack:
every job's file is the same PDF, so its pages rasterised once (300 dpi greyscale, not timed)
are read once per job. The raw engine OCRs every page; Pagewise reads the born-digital pages'
text layers, and also translates, summarises and renders every job.

Needs the local stack (`make up`). Usage: python bench/scale.py [--jobs 20] [--pages 5] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

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
from ocr_engine import rasters
from ocr_throughput import ENGINES, best_raw_engine
from pagewise_client.api import PagewiseClient

BENCHMARK = "Scale"


def _ended(api: PagewiseClient) -> set[str]:
    """The ids of the tenant's jobs that are completed or failed, from its job list."""
    ended: set[str] = set()
    cursor = None
    while True:
        page = api.list_jobs(limit=100, cursor=cursor)
        ended |= {j["job_id"] for j in page["jobs"] if j["status"] in ("completed", "failed")}
        cursor = page.get("next_cursor")
        if not cursor:
            return ended


def _moment(value: str) -> float:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def run(
    jobs: int, pages: int, engines: tuple[str, ...] = ENGINES, timeout_seconds: float = 3600
) -> list[Figure]:
    """``engines``: the raw engines to measure on the same pages (bench/run.py passes the one
    the OCR benchmark found faster in the same run; alone, both are measured)."""
    with tempfile.TemporaryDirectory() as tmp:
        return _run(jobs, pages, engines, Path(tmp), timeout_seconds)


def _run(
    jobs: int, pages: int, engines: tuple[str, ...], tmp: Path, timeout_seconds: float
) -> list[Figure]:
    api = client("bench-scale")
    idle = stack_memory()
    files = [make_pdf(tmp / f"job-{n}.pdf", scanned=1, digital=pages - 1) for n in range(jobs)]
    with MemorySampler() as sampler:
        started, wall_started = time.monotonic(), time.time()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            job_ids = [job_id for job_id, _, _ in pool.map(lambda f: submit(api, f), files)]
        submitted = time.monotonic() - started
        pending, finals = set(job_ids), {}
        deadline = time.monotonic() + timeout_seconds
        while pending and time.monotonic() < deadline:
            # One call a second for the tenant's list, not one per job: 20 jobs polled every
            # 0.5 s were 40 API calls a second, CPU the load itself needed. The status of a
            # job that ended is read once, for its details and completion time.
            for job_id in pending.intersection(_ended(api)):
                finals[job_id] = api.status(job_id)["details"]
                pending.discard(job_id)
            time.sleep(1.0)
        drained = time.monotonic() - started
    if finals and not pending:
        # Exact: the last job's completion as the stack wrote it, not the poll that saw it.
        last = max(_moment(d["completed_at"]) for d in finals.values() if d["completed_at"])
        drained = last - wall_started
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
    at_peak = sampler.pss_at or idle  # the peak sample, or one within 1 % below it
    completed = len(finals)
    best, measured = best_raw_engine(rasters(files[0]) * jobs, tmp, engines)
    pages_per_minute = jobs * pages * 60 / drained
    return [
        Figure(
            BENCHMARK,
            f"{jobs} jobs x {pages} pages at once: completed",
            completed,
            "jobs",
            "submitted",
            jobs,
            f"0 lost, 0 failed, one execution each; submitted in {submitted:.1f} s",
            "ratio >= 1.0",
        ),
        Figure(
            BENCHMARK,
            f"{jobs} jobs x {pages} pages: submit to all completed",
            drained,
            "s",
            note=f"{pages_per_minute:.1f} pages/min ({jobs} scanned pages)",
        ),
        Figure(
            BENCHMARK,
            f"{jobs} jobs x {pages} pages: pages/min, submit to all completed",
            pages_per_minute,
            "pages/min",
            f"best raw engine, same {jobs * pages} pages ({best.name})",
            best.pages_per_minute,
            "; ".join(f"{e.name}: {e.pages_per_minute:.1f} pages/min" for e in measured),
            "ratio >= 0.85",
        ),
        Figure(
            BENCHMARK,
            "peak RSS of the local stack during the run",
            peak.total_mb,
            "MB",
            "idle, just before",
            idle.total_mb,
            f"LocalStack {peak.localstack_mb:.0f} MB + {peak.lambda_processes} Lambda processes "
            f"(workers and what they started) {peak.lambda_mb:.0f} MB + MongoDB-wire "
            f"{peak.mongo_mb:.0f} MB; "
            f"{sampler.samples} samples",
            "value <= 6144",
        ),
        Figure(
            BENCHMARK,
            "PSS of the same processes at that peak",
            at_peak.total_pss_mb,
            "MB",
            "idle, just before",
            idle.total_pss_mb,
            f"LocalStack {at_peak.localstack_pss_mb:.0f} MB + {at_peak.lambda_processes} Lambda "
            f"processes {at_peak.lambda_pss_mb:.0f} MB + MongoDB-wire "
            f"{at_peak.mongo_pss_mb:.0f} MB (RSS {at_peak.total_mb:.0f} MB then); shared pages "
            "counted once, what the machine holds (the RSS row stays the goal); read at "
            f"{sampler.pss_reads} of the {sampler.samples} samples, each 1 % over the last",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="2 jobs x 1 page")
    parser.add_argument("--raw-engine", choices=ENGINES, nargs="+", default=list(ENGINES))
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also CPU seconds per process of the stack during the run (bench/profile_job.py's "
        "sampler: it reads /proc every 0.2 s, which the bench client's row includes)",
    )
    args = parser.parse_args()
    jobs, pages = (2, 1) if args.smoke else (args.jobs, args.pages)
    if not args.cpu:
        print(table(run(jobs, pages, tuple(args.raw_engine))))
        return
    from profile_job import CpuSampler

    with CpuSampler() as cpu:
        figures = run(jobs, pages, tuple(args.raw_engine))
    print(table(figures))
    print("CPU seconds during the run (the raw engine's processes, measured after, not counted):")
    for name, seconds in cpu.by_category().items():
        if seconds >= 0.01:
            print(f"  {name:45s} {seconds:7.2f}")


if __name__ == "__main__":
    main()
