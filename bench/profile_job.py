"""Profile of one scanned job through the deployed local stack: where its seconds go from the
upload to `ocr_completed`, and which processes spent CPU meanwhile.

Wall time on a shared, loaded machine says little; this script reports proportions and CPU
seconds, which load changes much less:

- the timeline, from the execution history and the REPORT lines: upload to ExecutionStarted
  (S3 notification, SQS, Ingest), ExecutionStarted to Prepare, Prepare, Prepare to the first
  page task, the page tasks (per page: Step Functions scheduling, Lambda invoke overhead
  including environment start, Init Duration, the function's Duration, of which rendering
  and OCR as the page records say), the Map's end, and the client seeing `ocr_completed`;
- CPU seconds per process during the job, from /proc (utime+stime; the OCR engine's child
  processes through their parent's cutime+cstime): LocalStack (which also supervises the
  Lambda environments), each function's worker, the worker's children (the Tesseract CLI),
  the MongoDB-wire server, and the
  whole machine (other users included) for scale;
- with --py-spy, what LocalStack's own CPU went to (sampled stacks, by module).

Needs the local stack (`make up`).
Usage: python bench/profile_job.py [--pages 8] [--undeclared] [--py-spy] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchkit import STATE_DIR, StackRun, client, make_pdf, reports, submit
from overhead import history

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FORMAT = ("-f", "raw", "-o")
AFTER_OCR = {"ocr_completed", "translation_started", "translation_completed", "summarising"}
AFTER_OCR |= {"completed", "failed"}


# -- CPU per process --------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own CPU seconds, waited-for children's CPU seconds)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ppid, (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


def _function_of(pid: int) -> str:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return "?"
    for entry in environ:
        if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            # pagewise-OcrPageFunction-36964552 -> OcrPage
            name = entry.split(b"=", 1)[1].decode()
            parts = name.split("-")
            return (parts[1] if len(parts) > 2 else name).removesuffix("Function")
    return "?"


def _machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(value) for value in fields[:8]) - int(fields[3]) - int(fields[4])
    return busy / CLOCK_TICKS


@dataclass
class CpuSampler:
    """CPU seconds per category of the stack's processes between __enter__ and __exit__."""

    interval: float = 0.2
    first: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)
    last: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)
    machine: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _classify(self) -> dict[tuple[int, str], tuple[float, float]]:
        stats: dict[int, tuple[int, float, float]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
                stats[int(entry.name)] = found
        children: dict[int, list[int]] = collections.defaultdict(list)
        for pid, (ppid, _, _) in stats.items():
            children[ppid].append(pid)
        roots = {
            name: int((STATE_DIR / "pids" / f"{name}.pid").read_text())
            for name in ("localstack", "secantus")
        }
        found: dict[tuple[int, str], tuple[float, float]] = {}

        def walk(pid: int, category: str) -> None:
            if pid not in stats:
                return
            _, own, waited = stats[pid]
            if category == "LocalStack" and pid != roots["localstack"]:
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    command = b""
                if b"bootstrap.py" in command:
                    role = "worker" if b"--worker" in command else "supervisor"
                    function = _function_of(pid)
                    found[(pid, f"Lambda {function} {role}")] = (own, 0.0)
                    if role == "worker":
                        # The OCR engine's processes (Tesseract CLI) are waited for by the
                        # worker: counted exactly through its cutime, never sampled twice.
                        found[(pid, f"Lambda {function} worker's children")] = (waited, 0.0)
                        return
                    for child in children.get(pid, []):
                        walk(child, category)
                    return
            found[(pid, category)] = (own, 0.0)
            for child in children.get(pid, []):
                walk(child, category)

        walk(roots["localstack"], "LocalStack")
        walk(roots["secantus"], "MongoDB-wire (SecantusDB)")
        return found

    def _sample(self) -> None:
        for key, value in self._classify().items():
            self.first.setdefault(key, value)
            self.last[key] = value

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._existing = set(self.first)
        self.machine = -_machine_cpu_seconds()
        self._own = os.times()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def finish(self) -> None:
        """Stop counting (the first call counts; later ones do nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        self.machine += _machine_cpu_seconds()
        own = os.times()
        self.client = (own.user + own.system) - (self._own.user + self._own.system)

    def __exit__(self, *_: object) -> None:
        self.finish()

    def by_category(self) -> dict[str, float]:
        totals: dict[str, float] = collections.defaultdict(float)
        for key, (value, _) in self.last.items():
            start = self.first[key][0] if key in self._existing else 0.0
            totals[key[1]] += value - start
        totals["bench client (this process)"] = self.client
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


# -- py-spy on LocalStack ---------------------------------------------------------------------


def _py_spy_start(seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    pid = (STATE_DIR / "pids" / "localstack.pid").read_text().strip()
    return subprocess.Popen(
        # --gil: only the thread holding the GIL, so samples are CPU, not threads waiting.
        [spy, "record", "-p", pid, "-d", str(seconds), "-r", "50", "--gil", *FORMAT, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _py_spy_modules(raw: Path, top: int = 12) -> list[tuple[str, int]]:
    """Samples per LocalStack area: the innermost LocalStack module on the stack (py-spy
    names files by their path under site-packages), else the innermost frame's file."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        frames = stack.split(";")
        files = [frame.rpartition("(")[2].split(":")[0] for frame in frames]
        ours = [name for name in files if name.startswith("localstack/")]
        area = "/".join(ours[-1].split("/")[:4]) if ours else (files[-1] if files else "?")
        counts[area] += int(number)
    return counts.most_common(top)


# -- the timeline -----------------------------------------------------------------------------


def _ms(event: dict[str, Any]) -> float:
    return float(event["timestamp"].timestamp() * 1000)


def timeline(job: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    upload_ms = job.started_at * 1000
    by_id = {event["id"]: event for event in events}
    started = next(e for e in events if e["type"] == "ExecutionStarted")
    tasks = []
    state = ""
    for event in events:
        if event["type"] == "TaskStateEntered":
            state = event["stateEnteredEventDetails"]["name"]
        if event["type"] != "TaskScheduled":
            continue
        begun = next(e for e in events if e.get("previousEventId") == event["id"])
        ended = next(e for e in events if e.get("previousEventId") == begun["id"])
        entered = by_id.get(event.get("previousEventId"))
        tasks.append(
            {
                "state": state,
                "entered_ms": _ms(entered) if entered else _ms(event),
                "scheduled_ms": _ms(event),
                "started_ms": _ms(begun),
                "ended_ms": _ms(ended),
            }
        )
    pages = [t for t in tasks if t["state"] == "OcrPage"]
    prepare = next(t for t in tasks if t["state"] == "Prepare")
    map_started = next(e for e in events if e["type"] == "MapStateStarted")
    map_ended = next(e for e in events if e["type"] in ("MapStateSucceeded", "MapStateFailed"))
    since = int(upload_ms) - 5000
    durations = {
        name: sorted(reports(f"{name}Function", since_ms=since), key=lambda r: r.timestamp_ms)
        for name in ("Ingest", "Prepare", "OcrPage")
    }

    def report_for(name: str, start: float, end: float) -> Any:
        inside = [r for r in durations[name] if start - 250 <= r.timestamp_ms <= end + 250]
        return min(inside, key=lambda r: abs(r.timestamp_ms - end)) if inside else None

    ingest = report_for("Ingest", upload_ms, _ms(started))
    prepare_report = report_for("Prepare", prepare["scheduled_ms"], prepare["ended_ms"])
    records = {int(p["page"]): p for p in job.page_results()}
    page_rows = []
    for task in pages:
        report = report_for("OcrPage", task["scheduled_ms"], task["ended_ms"])
        page_rows.append(
            {
                "entered_to_scheduled_ms": task["scheduled_ms"] - task["entered_ms"],
                "scheduled_to_started_ms": task["started_ms"] - task["scheduled_ms"],
                "task_ms": task["ended_ms"] - task["started_ms"],
                "duration_ms": report.duration_ms if report else None,
                "init_ms": (report.init_ms or 0.0) if report else None,
            }
        )
    ocr_ms = [float(r.get("ocr_seconds") or 0) * 1000 for r in records.values()]
    ocr_completed_ms = job.reached.get("ocr_completed", job.ocr_seconds) * 1000
    return {
        "pages": len(pages),
        "wall_to_ocr_completed_ms": ocr_completed_ms,
        "upload_to_execution_started_ms": _ms(started) - upload_ms,
        "ingest_duration_ms": ingest.duration_ms if ingest else None,
        "execution_started_to_prepare_scheduled_ms": prepare["scheduled_ms"] - _ms(started),
        "prepare_task_ms": prepare["ended_ms"] - prepare["scheduled_ms"],
        "prepare_duration_ms": prepare_report.duration_ms if prepare_report else None,
        "prepare_init_ms": (prepare_report.init_ms or 0) if prepare_report else None,
        "prepare_to_map_started_ms": _ms(map_started) - prepare["ended_ms"],
        "map_started_to_first_page_ms": min(t["scheduled_ms"] for t in pages) - _ms(map_started),
        "map_ms": _ms(map_ended) - _ms(map_started),
        "last_page_to_map_end_ms": _ms(map_ended) - max(t["ended_ms"] for t in pages),
        "map_end_to_client_ms": ocr_completed_ms - (_ms(map_ended) - upload_ms),
        "page_tasks": page_rows,
        "page_ocr_ms (render + OCR, page records)": ocr_ms,
    }


def summary(profile: dict[str, Any]) -> str:
    line = profile["timeline"]
    wall = line["wall_to_ocr_completed_ms"]
    rows = line["page_tasks"]
    pages = len(rows)
    total_task = sum(r["task_ms"] for r in rows)
    duration = sum(r["duration_ms"] or 0 for r in rows)
    init = sum(r["init_ms"] or 0 for r in rows)
    ocr = sum(line["page_ocr_ms (render + OCR, page records)"])
    sched = sum(r["scheduled_to_started_ms"] + r["entered_to_scheduled_ms"] for r in rows)
    out = [f"upload -> ocr_completed: {wall / 1000:.2f} s wall, {pages} pages"]

    def part(name: str, ms: float) -> None:
        out.append(f"  {name:<58} {ms / 1000:7.2f} s  {ms / wall:6.1%}")

    part("upload -> ExecutionStarted (S3 -> SQS -> Ingest)", line["upload_to_execution_started_ms"])
    part("  of which Ingest's Duration", line["ingest_duration_ms"] or 0)
    part("ExecutionStarted -> Prepare scheduled", line["execution_started_to_prepare_scheduled_ms"])
    part("Prepare task (invoke + Duration)", line["prepare_task_ms"])
    part("  of which Prepare's Duration", line["prepare_duration_ms"] or 0)
    part("Prepare end -> Map start", line["prepare_to_map_started_ms"])
    part("Map start -> first page scheduled", line["map_started_to_first_page_ms"])
    part("Map (all pages, wall)", line["map_ms"])
    part("last page end -> Map end", line["last_page_to_map_end_ms"])
    part("Map end -> client sees ocr_completed (poll)", line["map_end_to_client_ms"])
    out.append(f"page tasks, summed over {pages} pages (they overlap: concurrency):")

    def task_part(name: str, ms: float) -> None:
        out.append(f"  {name:<58} {ms / 1000:7.2f} s  {ms / max(total_task, 1):6.1%}")

    task_part("task time (TaskStarted -> TaskSucceeded)", total_task)
    task_part("  invoke overhead outside Duration (env start, queues)", total_task - duration)
    task_part("  Init Duration (new environments, inside task)", init)
    task_part("  Duration: render + OCR (page records)", ocr)
    task_part("  Duration: the rest (S3 read, MongoDB, handler)", duration - ocr)
    out.append(f"  Step Functions scheduling (entered -> started), summed: {sched / 1000:.2f} s")
    out.append("CPU seconds during the job, by process:")
    cpu = profile["cpu_seconds"]
    stack_total = sum(v for k, v in cpu.items() if not k.startswith("bench client"))
    for name, seconds in cpu.items():
        if seconds >= 0.005:
            out.append(f"  {name:<58} {seconds:7.2f} s  {seconds / max(stack_total, 0.01):6.1%}")
    out.append(f"  {'the stack, total':<58} {stack_total:7.2f} s")
    out.append(f"  {'the whole machine (every user)':<58} {profile['machine_cpu_seconds']:7.2f} s")
    if profile.get("localstack_py_spy"):
        out.append("LocalStack's CPU by area (py-spy samples):")
        total = sum(n for _, n in profile["localstack_py_spy"]) or 1
        for area, number in profile["localstack_py_spy"]:
            out.append(f"  {area:<58} {number:7d}    {number / total:6.1%}")
    return "\n".join(out)


def profile_job(pages: int, *, declared: bool = True, py_spy: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_pdf(Path(tmp) / f"scan-{pages}.pdf", scanned=pages)
        spy = _py_spy_start(600, Path(tmp) / "localstack.raw") if py_spy else None
        extra = {"source_language": "es"} if declared else {}
        api = client("bench-profile")
        reached: dict[str, float] = {}
        with CpuSampler() as cpu:
            job_id, wall, started = submit(api, pdf, **extra)

            def note(status: dict[str, Any]) -> None:
                name = str(status["details"]["processing_status"])
                reached.setdefault(name, time.monotonic() - started)
                if name in AFTER_OCR:
                    cpu.finish()  # the CPU of the OCR stage only, as the timeline

            final = api.wait(job_id, timeout_seconds=1800, on_change=note, interval=0.1)
        job = StackRun(api, job_id, pages, final, reached, wall)
        if not job.completed:
            raise SystemExit(f"profiled job {job_id} ended {final['details']}")
        areas: list[tuple[str, int]] = []
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
            spy.wait(timeout=60)
            raw = Path(tmp) / "localstack.raw"
            areas = _py_spy_modules(raw) if raw.exists() else []
    return {
        "timeline": timeline(job, history(job.job_id)),
        "cpu_seconds": cpu.by_category(),
        "machine_cpu_seconds": cpu.machine,
        "localstack_py_spy": areas,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--undeclared", action="store_true", help="no source_language")
    parser.add_argument("--py-spy", action="store_true", help="sample LocalStack with py-spy")
    parser.add_argument("--json", type=Path, help="also write the raw profile here")
    args = parser.parse_args()
    found = profile_job(args.pages, declared=not args.undeclared, py_spy=args.py_spy)
    print(summary(found))
    if args.json:
        args.json.write_text(json.dumps(found, indent=1, default=str))


if __name__ == "__main__":
    main()
