"""What every benchmark shares: access to the deployed local stack, test documents, a job run
through the stack with the time each status was first seen, the Lambda REPORT lines in
CloudWatch Logs, the memory of the stack's processes, the machine's description and the one
results table.

The benchmarks are scripts (`python bench/<name>.py`), so this module is imported as
`benchkit` with bench/ on sys.path.
"""

from __future__ import annotations

import atexit
import os
import platform
import re
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pymupdf
from pagewise_client.api import PagewiseClient
from pagewise_client.local import local_token, stack_outputs

ROOT = Path(__file__).resolve().parents[1]
STACK_NAME = "pagewise"
LOCAL_AWS = {
    "AWS_ENDPOINT_URL": f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
STATE_DIR = Path(os.environ.get("PAGEWISE_HOME", ROOT / ".pagewise"))
LAMBDA_PYTHON = ROOT / ".venvs" / "lambda-python" / "bin" / "python"

PARAGRAPH = (
    "CLÁUSULA {n}. El arrendatario se obliga a pagar la renta pactada dentro de los cinco "
    "primeros días de cada mes, mediante transferencia a la cuenta designada por el "
    "arrendador. El retraso en el pago devengará el interés legal del dinero incrementado en "
    "dos puntos, sin perjuicio de la facultad del arrendador de resolver el contrato. "
)


# -- the stack ------------------------------------------------------------------------------


def aws(service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=LOCAL_AWS["AWS_ENDPOINT_URL"],
        region_name=LOCAL_AWS["AWS_REGION"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@cache
def outputs() -> dict[str, str]:
    return stack_outputs()


_FRESH_TENANTS: list[str] = []


def fresh_tenant(prefix: str) -> str:
    """A new tenant, so a benchmark's jobs never mix with anyone else's; its jobs and files
    are deleted when the benchmark's process ends, as the tests delete theirs."""
    if not _FRESH_TENANTS:
        atexit.register(_delete_fresh_tenants)
    subject = f"{prefix}-{uuid.uuid4().hex[:6]}"
    _FRESH_TENANTS.append(subject)
    return subject


def _delete_fresh_tenants() -> None:
    # The tests' own clean-up (tests/stack.py), which reads pagewise's models.
    import sys

    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
    from tests.stack import delete_tenant

    for subject in _FRESH_TENANTS:
        try:
            delete_tenant(subject)
        except Exception as error:  # a stack stopped meanwhile: say so, never hide the results
            print(f"[bench] could not delete tenant {subject}'s jobs: {error}")


def client(tenant_prefix: str) -> PagewiseClient:
    """A client for a fresh tenant (see :func:`fresh_tenant`)."""
    return PagewiseClient(outputs()["ApiUrl"], local_token(fresh_tenant(tenant_prefix)))


@cache
def physical_id(logical_id: str) -> str:
    detail = aws("cloudformation").describe_stack_resource(
        StackName=STACK_NAME, LogicalResourceId=logical_id
    )["StackResourceDetail"]
    return str(detail["PhysicalResourceId"])


def deployed_environment(logical_id: str) -> dict[str, str]:
    """The environment the deployed function runs with, plus the local AWS endpoint."""
    configured = aws("lambda").get_function_configuration(FunctionName=physical_id(logical_id))
    return {**configured.get("Environment", {}).get("Variables", {}), **LOCAL_AWS}


# -- documents ------------------------------------------------------------------------------


def _page_text(number: int, paragraphs: int = 8) -> str:
    return "".join(PARAGRAPH.format(n=number * 10 + k) for k in range(paragraphs))


def _add_scanned_page(out: pymupdf.Document, number: int) -> None:
    """A 300 dpi greyscale scan of a page full of text, stored as JPEG as scanners do (a PNG
    of a 300-dpi page is several MB)."""
    with pymupdf.open() as source:
        page = source.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), _page_text(number), fontsize=11)
        pixmap = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    scan = out.new_page(width=595, height=842)
    scan.insert_image(scan.rect, stream=pixmap.tobytes("jpeg", jpg_quality=80))


def _add_digital_page(out: pymupdf.Document, number: int) -> None:
    page = out.new_page(width=595, height=842)
    page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), _page_text(number), fontsize=11)


def make_pdf(path: Path, scanned: int = 0, digital: int = 0) -> Path:
    """`scanned` image-only pages, then `digital` pages with a text layer."""
    with pymupdf.open() as out:
        for number in range(1, scanned + 1):
            _add_scanned_page(out, number)
        for number in range(scanned + 1, scanned + digital + 1):
            _add_digital_page(out, number)
        out.save(path, garbage=3, deflate=True)
    return path


# -- a job through the stack ----------------------------------------------------------------


@dataclass
class StackRun:
    """One document from the presigned upload to its final status, timed by the client."""

    api: PagewiseClient
    job_id: str
    pages: int
    final: dict[str, Any]
    # seconds after the upload started at which the client first saw each status
    reached: dict[str, float]
    started_at: float  # time.time() of the upload's start (for log windows)

    @property
    def completed(self) -> bool:
        return bool(self.final["details"]["processing_status"] == "completed")

    @property
    def recorded(self) -> dict[str, float]:
        """Seconds after the upload started at which each status was written (the job's
        status_history, on this machine's clock): exact whatever the polling interval, so
        the client can poll seldom and leave the CPU to the stack."""
        found: dict[str, float] = {}
        for entry in self.final["details"].get("status_history") or []:
            at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
            moment = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
            found.setdefault(str(entry["status"]), moment - self.started_at)
        return found

    @property
    def seen_seconds(self) -> float:
        """Upload to the client seeing the final status."""
        return self.reached[self.final["details"]["processing_status"]]

    @property
    def total_seconds(self) -> float:
        """Upload to the final status, as written by the stack."""
        status = self.final["details"]["processing_status"]
        return self.recorded.get(status, self.reached[status])

    def page_results(self) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = self.api.result(self.job_id)["page_results"]
        return pages

    @property
    def ocr_seconds(self) -> float:
        # The moment the last page's OCR was recorded. A short job can pass several statuses
        # between two polls, so take the first status seen from ocr_completed on.
        after_ocr = [
            "ocr_completed",
            "translation_started",
            "translation_completed",
            "summarising",
            "completed",
        ]
        for times in (self.recorded, self.reached):
            found = [times[status] for status in after_ocr if status in times]
            if found:
                return found[0]
        raise KeyError("the job never reached ocr_completed")


def submit(api: PagewiseClient, pdf: Path, **extra: Any) -> tuple[str, float, float]:
    """Create the job and upload the file: (job id, time.time() and monotonic at upload)."""
    created = api.create_job(pdf, **extra)
    wall, started = time.time(), time.monotonic()
    api.upload(created["upload"], pdf)
    return str(created["job_id"]), wall, started


def run_job(
    pdf: Path,
    tenant_prefix: str,
    *,
    timeout_seconds: float = 3600,
    interval: float = 1.0,
    require_completed: bool = True,
    **extra: Any,
) -> StackRun:
    api = client(tenant_prefix)
    job_id, wall, started = submit(api, pdf, **extra)
    reached: dict[str, float] = {}

    def note(status: dict[str, Any]) -> None:
        reached.setdefault(str(status["details"]["processing_status"]), time.monotonic() - started)

    final = api.wait(job_id, timeout_seconds=timeout_seconds, on_change=note, interval=interval)
    run = StackRun(api, job_id, int(final["details"]["total_pages"] or 0), final, reached, wall)
    if require_completed and not run.completed:
        details = final["details"]
        raise SystemExit(
            f"bench job {job_id} ended {details['processing_status']}: "
            f"{details.get('error_code')} {details.get('error_message')}"
        )
    return run


def execution_arn(job_id: str) -> str:
    machine = outputs()["StateMachineArn"]
    return f"{machine.replace(':stateMachine:', ':execution:')}:{job_id}"


# -- Lambda REPORT lines (CloudWatch Logs) ---------------------------------------------------

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[\w-]+)\s+Duration: (?P<duration>[\d.]+) ms"
    r"(?:.*?Init Duration: (?P<init>[\d.]+) ms)?"
)


@dataclass(frozen=True)
class Report:
    function: str
    stream: str
    request_id: str
    duration_ms: float
    init_ms: float | None
    first_in_stream: bool
    timestamp_ms: int  # when LocalStack stored the invocation's logs: its end


def log_events(group: str, stream: str, since_ms: int = 0) -> Iterator[dict[str, Any]]:
    logs = aws("logs")
    kwargs: dict[str, Any] = {
        "logGroupName": group,
        "logStreamName": stream,
        "startFromHead": True,
    }
    if since_ms:
        kwargs["startTime"] = since_ms
    token = None
    while True:
        page = logs.get_log_events(**kwargs, **({"nextToken": token} if token else {}))
        yield from page["events"]
        if not page["events"] or page.get("nextForwardToken") in (None, token):
            return
        token = page["nextForwardToken"]


def reports(logical_id: str, since_ms: int = 0) -> list[Report]:
    """The REPORT lines of a deployed function (the host executor writes one per invocation;
    one log stream per execution environment)."""
    group = f"/aws/lambda/{physical_id(logical_id)}"
    logs = aws("logs")
    try:
        streams = [
            stream
            for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
            for stream in page["logStreams"]
        ]
    except logs.exceptions.ResourceNotFoundException:
        return []
    found: list[Report] = []
    for stream in streams:
        name = stream["logStreamName"]
        first = True
        for event in log_events(group, name, since_ms):
            match = REPORT.search(event["message"])
            if match:
                init = match.group("init")
                found.append(
                    Report(
                        logical_id,
                        name,
                        match.group("id"),
                        float(match.group("duration")),
                        float(init) if init else None,
                        first and not since_ms,
                        int(event["timestamp"]),
                    )
                )
                first = False
    return found


# -- memory of the local stack --------------------------------------------------------------


_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
# MemorySampler reads PSS again only when the RSS peak has grown by more than this factor.
_PSS_STEP = 1.01


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (2nd field) may hold spaces: the ppid is the 2nd field after ")"
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _rss_mb(pid: int) -> float:
    """Resident set size from ``statm`` (its 2nd field, in pages): the cheapest read."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def pss_mb(pid: int) -> float:
    """The process's proportional set size: each shared page divided by the number of
    processes mapping it. RSS counts a shared library's pages once per process, so an RSS sum
    over many interpreters overstates what the machine holds; the PSS sum does not."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _is_lambda(pid: int) -> bool:
    try:
        return b"bootstrap.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass
class MemorySample:
    localstack_mb: float  # LocalStack itself and its children other than Lambda environments
    mongo_mb: float
    lambda_mb: float
    lambda_processes: int
    # The PSS sums of the same processes (see pss_mb); the RSS sums above stay the goal's.
    localstack_pss_mb: float = 0.0
    mongo_pss_mb: float = 0.0
    lambda_pss_mb: float = 0.0

    @property
    def total_mb(self) -> float:
        return self.localstack_mb + self.mongo_mb + self.lambda_mb

    @property
    def total_pss_mb(self) -> float:
        return self.localstack_pss_mb + self.mongo_pss_mb + self.lambda_pss_mb


def _stack_members() -> list[tuple[int, str]]:
    """The stack's processes, each with what it counts as: ``localstack``, ``lambda`` or
    ``mongo``, from the PID files localstack/stack.sh writes. Lambda execution environments
    (bootstrap.py workers) are LocalStack's children; they are counted apart."""
    tree = _children()
    members = []
    for name in ("localstack", "secantus"):
        pid = int((STATE_DIR / "pids" / f"{name}.pid").read_text())
        if name == "secantus":
            members += [(member, "mongo") for member in _descendants(pid, tree)]
            continue
        # A Lambda worker's own children (the offline provider's Apertium stages) count
        # with the Lambda environments, not with LocalStack.
        todo = [pid]
        while todo:
            current = todo.pop()
            if current != pid and _is_lambda(current):
                members += [(member, "lambda") for member in _descendants(current, tree)]
                continue
            members.append((current, "localstack"))
            todo.extend(tree.get(current, []))
    return members


def _sums(members: list[tuple[int, str]], read: Callable[[int], float]) -> dict[str, float]:
    """``read`` (MB) summed per kind of member: localstack, lambda, mongo."""
    sums = dict.fromkeys(("localstack", "lambda", "mongo"), 0.0)
    for member, kind in members:
        sums[kind] += read(member)
    return sums


def _rss_sample(members: list[tuple[int, str]]) -> MemorySample:
    rss = _sums(members, _rss_mb)
    lambdas = sum(1 for _, kind in members if kind == "lambda")
    return MemorySample(rss["localstack"], rss["mongo"], rss["lambda"], lambdas)


def _add_pss(sample: MemorySample, members: list[tuple[int, str]]) -> MemorySample:
    pss = _sums(members, pss_mb)
    sample.localstack_pss_mb, sample.mongo_pss_mb = pss["localstack"], pss["mongo"]
    sample.lambda_pss_mb = pss["lambda"]
    return sample


def stack_memory() -> MemorySample:
    """RSS and PSS sums of the stack's process trees (see _stack_members)."""
    members = _stack_members()
    return _add_pss(_rss_sample(members), members)


@dataclass
class MemorySampler:
    """Samples the stack's RSS sum every `interval` seconds in a thread and keeps the peak,
    with the PSS sum of the same processes taken at that peak sample.

    PSS is read (``smaps_rollup``: the kernel walks every page table, ~2 ms per Lambda
    process, 75 ms for 35 of them) only when a sample raises the RSS peak by more than 1 %
    over the last sample it was read at: reading it at every sample took 15-20 % of a core
    from the 2-core stack being measured, and at every new peak (the RSS sum climbs through
    most of a run) still 5 %."""

    interval: float = 0.5
    peak: MemorySample | None = None
    # The sample whose PSS was read last: the peak, or within _PSS_STEP below it.
    pss_at: MemorySample | None = None
    samples: int = 0
    pss_reads: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            members = _stack_members()
            sample = _rss_sample(members)
            self.samples += 1
            if self.peak is None or sample.total_mb > self.peak.total_mb:
                if self.pss_at is None or sample.total_mb > self.pss_at.total_mb * _PSS_STEP:
                    self.pss_at = _add_pss(sample, members)
                    self.pss_reads += 1
                self.peak = sample
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# -- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured figure and its ratio to the baseline measured in the same run."""

    benchmark: str
    measurement: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    note: str = ""
    # What issue 16 asks of this figure: "ratio >= 0.9" or "value <= 1.5" (in its unit).
    goal: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    def goal_met(self) -> bool | None:
        if not self.goal:
            return None
        what, operator, threshold = self.goal.split()
        measured = self.ratio if what == "ratio" else self.value
        if measured is None:
            return False
        return measured >= float(threshold) if operator == ">=" else measured <= float(threshold)


def _number(value: float) -> str:
    """Three significant digits, without exponents (1234, 123.4, 12.3, 1.23, 0.123)."""
    if abs(value) >= 100:
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.1f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.4f}"


def table(figures: list[Figure]) -> str:
    lines = [
        "| benchmark | measurement | value | baseline (same run) | ratio | notes |",
        "|---|---|---:|---|---:|---|",
    ]
    for f in figures:
        baseline = (
            f"{f.baseline}: {_number(f.baseline_value)} {f.unit}"
            if f.baseline and f.baseline_value is not None
            else f.baseline
        )
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        lines.append(
            f"| {f.benchmark} | {f.measurement} | {_number(f.value)} {f.unit} | {baseline} | "
            f"{ratio} | {f.note} |"
        )
    return "\n".join(lines)


def goals_table(figures: list[Figure]) -> str:
    """The figures issue 16 sets a goal for, with the goal and whether this run met it."""
    lines = [
        "| benchmark | measurement | figure | goal | met |",
        "|---|---|---:|---|---|",
    ]
    for f in figures:
        met = f.goal_met()
        if met is None:
            continue
        what = f.goal.split()[0]
        shown = f"{f.ratio:.2f}" if what == "ratio" and f.ratio is not None else _number(f.value)
        unit = "" if what == "ratio" else f" {f.unit}"
        goal = f.goal.replace(">=", "≥").replace("<=", "≤") + unit
        lines.append(
            f"| {f.benchmark} | {f.measurement} | {shown}{unit} | {goal} | "
            f"{'yes' if met else 'no'} |"
        )
    return "\n".join(lines)


def git_commit() -> str:
    """The commit measured, and whether the work tree differed from it."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    commit = git("rev-parse", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


# -- the machine ----------------------------------------------------------------------------


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "not installed"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"
    )


def machine_description() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    os_name = next(
        (
            line.split("=", 1)[1].strip('"')
            for line in Path("/etc/os-release").read_text().splitlines()
            if line.startswith("PRETTY_NAME=")
        ),
        platform.platform(),
    )
    localstack_python = ROOT / ".venvs" / "localstack" / "bin" / "python"
    version_of = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    return {
        "CPU": model,
        "cores": str(os.cpu_count()),
        "RAM": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "OS": os_name,
        "tesseract": _first_line(["tesseract", "--version"]),
        "ocrmypdf": _first_line(["ocrmypdf", "--version"]),
        "LocalStack": "localstack-core "
        + _first_line([str(localstack_python), "-c", version_of, "localstack-core"]),
        "Python (bench)": platform.python_version(),
        "Python (Lambda functions)": _first_line([str(LAMBDA_PYTHON), "--version"]),
        "PyMuPDF": pymupdf.VersionBind,
        "tesserocr (raw engine baseline)": _tesserocr_version(),
    }


def _tesserocr_version() -> str:
    try:
        import importlib.metadata

        import tesserocr
    except ImportError:
        return "not installed"
    library = tesserocr.tesseract_version().splitlines()[0]
    return f"{importlib.metadata.version('tesserocr')} ({library})"


def results_markdown(
    figures: list[Figure], title: str, preamble: str = "", took: dict[str, float] | None = None
) -> str:
    machine = "\n".join(f"- {key}: {value}" for key, value in machine_description().items())
    if took:
        machine += "\n- time each benchmark took: " + ", ".join(
            f"{name} {seconds:.0f} s" for name, seconds in took.items()
        )
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    goals = goals_table(figures)
    goal_section = f"## Goals (issue 16)\n\n{goals}\n\n" if goals.count("\n") > 1 else ""
    return (
        f"# {title}\n\n{preamble}\n\nMeasured {stamp} at commit {git_commit()} on:\n\n"
        f"{machine}\n\n{goal_section}## Every figure\n\n{table(figures)}\n"
    )
