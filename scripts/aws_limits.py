#!/usr/bin/env python3
"""AWS's limits at MAX_PAGES, checked before deploy (part of `make aws-check`).

    python scripts/aws_limits.py          the checks: each with its figure; exit 1 if one fails
    python scripts/aws_limits.py measure  re-measure the history events per page on the running
                                          local stack (LOCALSTACK_PORT, MONGO_PORT exported) and
                                          write scripts/history_events.json

Checks:
- Step Functions: the events of the parent execution and of each page's child execution, with
  every configured Retry spent and the failure path taken, against 25,000 per history. Events
  per page and the fixed events come from a real local execution (history_events.json), the
  retries and Catch paths from the ASL.
- Lambda: the largest /result response (the paged result, built from MAX_PAGES pages whose
  every text field holds the most characters a page may keep, serialised with the response
  model and wrapped the way Mangum and the Lambda runtime return it) against 6 MB.
- MongoDB: the largest job document (full status history, longest fields), the largest
  ai_extracted_content and the largest page_results document at MAX_PAGES, against 16 MiB.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common"))

ASL_PATH = ROOT / "statemachine" / "pipeline.asl.json"
TEMPLATE_PATH = ROOT / "template.yaml"
MEASURED_PATH = ROOT / "scripts" / "history_events.json"
MEASURE_COMMAND = (
    "LOCALSTACK_PORT=... MONGO_PORT=... .venvs/dev/bin/python scripts/aws_limits.py measure"
)

HISTORY_LIMIT = 25_000  # events in one execution's history (Standard)
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # synchronous invocation payload
MONGO_DOCUMENT_LIMIT = 16 * 1024 * 1024  # BSON document
STATE_DATA_LIMIT = 256 * 1024  # a state's input or output
# A failed attempt of a Task adds TaskScheduled, TaskStarted and TaskFailed (or TaskTimedOut)
# before the next attempt; the successful attempt's events are in the measured counts.
EVENTS_PER_RETRY = 3
DEFAULT_RETRY_ATTEMPTS = 3  # MaxAttempts when a Retrier omits it (States language)


# -- the state machine ---------------------------------------------------------------------


def aws_processor_config(template: Path = TEMPLATE_PATH) -> str:
    """The page Maps' ProcessorConfig in AWS (the template substitutes another on LocalStack)."""
    from cfnlint.decode import cfn_yaml

    resources = cfn_yaml.load(str(template))["Resources"]
    value = resources["PipelineStateMachine"]["Properties"]["DefinitionSubstitutions"][
        "PageMapProcessorConfig"
    ]
    if isinstance(value, dict) and "Fn::If" in value:
        value = value["Fn::If"][2]  # [IsLocal, local value, AWS value]
    return str(value)


def load_asl(path: Path = ASL_PATH, processor_config: str | None = None) -> dict[str, Any]:
    """The ASL as deployed to AWS: its ${...} substitutions filled by placeholders (ARNs and
    numbers) and the page Maps' ProcessorConfig by the template's AWS value."""
    text = path.read_text()
    config = aws_processor_config() if processor_config is None else processor_config
    text = text.replace("${PageMapProcessorConfig}", config)
    text = re.sub(r"\$\{\w*Concurrency\}", "1", text)
    text = re.sub(r"\$\{(\w+)\}", r"arn:aws:lambda:us-east-1:000000000000:function:\1", text)
    asl: dict[str, Any] = json.loads(text)
    return asl


def retry_attempts(state: Mapping[str, Any]) -> int:
    """Attempts the state's retriers allow at most (each retrier counts its own attempts)."""
    return sum(int(r.get("MaxAttempts", DEFAULT_RETRY_ATTEMPTS)) for r in state.get("Retry", []))


@dataclass(frozen=True)
class MapState:
    name: str
    mode: str  # INLINE or DISTRIBUTED
    states: dict[str, Any]
    start_at: str


def page_maps(asl: Mapping[str, Any]) -> list[MapState]:
    maps = []
    for name, state in asl["States"].items():
        if state["Type"] == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
            maps.append(MapState(name, mode, processor["States"], processor["StartAt"]))
    return maps


def _worst_path_extra(states: Mapping[str, Any], start: str) -> int:
    """Events a run of ``states`` adds, beyond its measured successful run, when every retry is
    spent and the Catch taken: retries of the Tasks on the success path, then the Catch path
    (its Tasks' own events, retries and the final state). An upper bound: it counts the spent
    retries of the success path and the Catch path both."""
    extra = 0
    name: str | None = start
    seen: set[str] = set()
    while name is not None and name not in seen:
        seen.add(name)
        state = states[name]
        if state["Type"] == "Task":
            extra += retry_attempts(state) * EVENTS_PER_RETRY
        name = state.get("Next")
    catch_targets = {
        catcher["Next"] for state in states.values() for catcher in state.get("Catch", [])
    }
    catch_extra = 0
    for target in catch_targets:
        cost = 0
        name = target
        while name is not None:
            state = states[name]
            if state["Type"] == "Task":
                # TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited
                cost += 5 + retry_attempts(state) * EVENTS_PER_RETRY
            elif state["Type"] == "Fail":
                cost += 2  # FailStateEntered, ExecutionFailed
            else:
                cost += 2
            name = state.get("Next")
        catch_extra = max(catch_extra, cost)
    return extra + catch_extra


@dataclass(frozen=True)
class HistoryBudget:
    """Worst-case events of the parent execution and of one page's child execution."""

    parent_worst: int
    child_worst: dict[str, int]  # per Distributed Map: one page's child execution
    inline_per_page_worst: int  # per page, all Inline Maps together (0 when all distributed)
    largest_document_pages: int | None  # pages that fit the parent's history; None: unbounded


def history_budget(
    asl: Mapping[str, Any], measured: Mapping[str, Any], max_pages: int
) -> HistoryBudget:
    maps = page_maps(asl)
    fixed = int(measured["parent_fixed_events"]) + _worst_path_extra(asl["States"], asl["StartAt"])
    child_worst: dict[str, int] = {}
    inline_per_page = 0
    for page_map in maps:
        per_page = int(measured["events_per_page"][page_map.name])
        worst = per_page + _worst_path_extra(page_map.states, page_map.start_at)
        if page_map.mode == "DISTRIBUTED":
            child_worst[page_map.name] = worst
        else:
            inline_per_page += worst
    parent = fixed + inline_per_page * max_pages
    largest = (HISTORY_LIMIT - fixed) // inline_per_page if inline_per_page else None
    return HistoryBudget(parent, child_worst, inline_per_page, largest)


# -- measuring on the local stack -----------------------------------------------------------


def execution_history(client: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _sfn_client() -> Any:
    return boto3_client("stepfunctions")


def boto3_client(service: str) -> Any:
    import os

    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _wait_execution(sfn: Any, arn: str) -> str:
    import time

    for _ in range(1200):
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING":
            return status
        time.sleep(0.5)
    raise TimeoutError(f"{arn} still running")


def _document(path: Path, pages: int) -> None:
    import pymupdf

    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 72), f"Pagina {number}. El arrendatario pagara la renta mensual.")
    document.save(path)


class _Stack:
    """The local stack's outputs and clients, and jobs set up directly in it: the document
    under work/ (no upload event, so the deployed pipeline does not start), the job in MongoDB
    in the status the state machine under test expects."""

    def __init__(self) -> None:
        import os

        from pagewise_client.api import PagewiseClient
        from pagewise_client.local import local_token, stack_outputs
        from pymongo import MongoClient

        self.outputs = stack_outputs()
        self.sfn = _sfn_client()
        self.s3 = boto3_client("s3")
        self.api = PagewiseClient(self.outputs["ApiUrl"], local_token("aws-limits"))
        port = os.environ.get("MONGO_PORT", "27017")
        self.mongo: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://127.0.0.1:{port}/?directConnection=true"
        )
        self.jobs: list[tuple[str, str]] = []
        self.machines: list[str] = []

    def definition(self) -> dict[str, Any]:
        arn = self.outputs["StateMachineArn"]
        return dict(json.loads(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"]))

    def job(self, pages: int, **fields: Any) -> str:
        import tempfile

        from bson import ObjectId

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "measure.pdf"
            _document(path, pages)
            job_id = str(self.api.create_job(path, client_name="aws-limits")["job_id"])
            key = f"work/{job_id}/measure.pdf"
            self.s3.put_object(
                Bucket=self.outputs["UploadsBucketName"], Key=key, Body=path.read_bytes()
            )
        self.jobs.append((job_id, key))
        self.mongo.pagewise.original_files.update_one(
            {"_id": ObjectId(job_id)}, {"$set": {"upload_key": key, **fields}}
        )
        return job_id

    def run(self, name: str, definition: Mapping[str, Any], payload: Mapping[str, Any]) -> int:
        """Events of a run of ``definition`` (a state machine made for it) on ``payload``."""
        import uuid

        if name not in {arn.rsplit(":", 1)[1] for arn in self.machines}:
            self.machines.append(
                self.sfn.create_state_machine(
                    name=name,
                    definition=json.dumps(definition),
                    roleArn="arn:aws:iam::000000000000:role/aws-limits",
                )["stateMachineArn"]
            )
        arn = next(arn for arn in self.machines if arn.endswith(f":{name}"))
        run = self.sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(payload)
        )["executionArn"]
        if _wait_execution(self.sfn, run) != "SUCCEEDED":
            raise RuntimeError(f"{name}: {self.sfn.describe_execution(executionArn=run)}")
        events = execution_history(self.sfn, run)
        if any(event["type"].startswith("MapIteration") for event in events):
            raise RuntimeError(f"{name}: Map iterations in the history: the Maps are Inline")
        return len(events)

    def close(self) -> None:
        for arn in self.machines:
            self.sfn.delete_state_machine(stateMachineArn=arn)
        for job_id, key in self.jobs:
            # A job not final yet is cancelled first, then deleted; a final one is deleted.
            if self.api.cancel(job_id).get("outcome") == "cancelled":
                self.api.cancel(job_id)
            self.s3.delete_object(Bucket=self.outputs["UploadsBucketName"], Key=key)
        self.mongo.close()


def measure(pages: int = 3) -> dict[str, Any]:
    """The fixed events of a job's execution and each page Map's events per page, from runs of
    the deployed state machine's definition with the page Maps as in AWS (Distributed).

    LocalStack runs a Distributed Map's children but keeps their events to itself (its
    DistributedIterationComponent records them in a fresh EventManager; ListExecutions ignores
    mapRunArn). So the parent's events come from a whole run of the AWS definition, and each
    Map's per-page events from runs of its ItemProcessor, which is what AWS runs as a child
    execution, as a state machine of its own, once per page.
    """
    import uuid

    stack = _Stack()
    suffix = uuid.uuid4().hex[:8]
    try:
        definition = stack.definition()
        config = json.loads(aws_processor_config())
        for state in definition["States"].values():
            if state["Type"] == "Map":
                state["ItemProcessor"]["ProcessorConfig"] = config
        job_id = stack.job(pages, processing_status="queued")
        parent = stack.run(f"aws-limits-job-{suffix}", definition, {"job_id": job_id})
        job_id = stack.job(pages, processing_status="ocr_started", total_pages=pages)
        per_page: dict[str, int] = {}
        for name, state in definition["States"].items():
            if state["Type"] != "Map":
                continue
            processor = state["ItemProcessor"]
            child = {"StartAt": processor["StartAt"], "States": processor["States"]}
            per_page[name] = max(
                stack.run(f"aws-limits-{name}-{suffix}", child, {"job_id": job_id, "page": page})
                for page in range(1, pages + 1)
            )
        return {"pages": pages, "parent_fixed_events": parent, "events_per_page": per_page}
    finally:
        stack.close()


# -- checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    figure: int
    limit: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.figure <= self.limit

    def line(self) -> str:
        verdict = "ok  " if self.ok else "FAIL"
        share = 100 * self.figure / self.limit
        figures = f"{self.figure:,} of {self.limit:,} ({share:.0f} %)"
        return f"[{verdict}] {self.name}: {figures}{' - ' + self.detail if self.detail else ''}"


def template_max_pages(template: Path = TEMPLATE_PATH) -> int:
    """MAX_PAGES as deployed: the template's MAX_PAGES variable if it sets one, else the
    settings' default."""
    from pagewise.settings import PipelineSettings

    found = re.search(r"^\s*MAX_PAGES:\s*['\"]?(\d+)", template.read_text(), re.M)
    if found:
        return int(found.group(1))
    return int(PipelineSettings.model_fields["max_pages"].default)


def history_checks(
    asl: Mapping[str, Any], measured: Mapping[str, Any], max_pages: int
) -> list[Check]:
    budget = history_budget(asl, measured, max_pages)
    per_page = measured["events_per_page"]
    checks = [
        Check(
            f"Step Functions history of a {max_pages}-page job, every retry spent",
            budget.parent_worst,
            HISTORY_LIMIT,
            f"{measured['parent_fixed_events']} fixed events measured"
            + (
                f", {budget.inline_per_page_worst} per page in Inline Maps"
                if budget.inline_per_page_worst
                else ", pages in Distributed Map child executions"
            ),
        )
    ]
    for name, worst in budget.child_worst.items():
        checks.append(
            Check(
                f"Step Functions history of one page's {name} child execution, every retry spent",
                worst,
                HISTORY_LIMIT,
                f"{per_page[name]} events measured",
            )
        )
    return checks


def _worst_text(chars: int) -> str:
    # The character that takes the most bytes in the Lambda's response: a control character
    # is \u0001 in FastAPI's JSON, \\u0001 once that JSON is the proxy answer's body string.
    return "\x01" * chars


def largest_result_body(
    max_pages: int, page_size: int, text_chars: int, budget: int | None = None
) -> int:
    """The largest of :func:`result_body` over page texts from ``text_chars`` down to a few
    hundred characters a field (long pages fill a response with few pages, short ones with
    many), the summary always at ``text_chars``."""
    sizes = {max(text_chars // divisor, 1) for divisor in (1, 2, 3, 4, 6, 8, 12, 16, 25, 50, 100)}
    return max(result_body(max_pages, page_size, size, text_chars, budget) for size in sizes)


def result_body(
    max_pages: int, page_size: int, text_chars: int, summary_chars: int, budget: int | None
) -> int:
    """Bytes of the largest /result response: ``page_size`` pages (at most ``max_pages``)
    whose text fields all hold ``text_chars`` of the costliest character, with the longest
    summary and the report, serialised with the response model and wrapped as Mangum and the
    Lambda runtime return it."""
    from pagewise.logic.results import RESULT_BODY_BUDGET, result_page

    text = _worst_text(text_chars)
    pages = [
        {
            "page": number,
            "source": "ocr",
            "language": "spa",
            "ocr_text": text,
            "ocr_confidence": 99.9,
            "ocr_seconds": 12.345,
            "ocr_reason": "no_text_layer",
            "ocr_rotation": 270,
            "ocr_dpi": 300,
            "ocr_languages": "spa+eng+por+fra+deu+ita",
            "legal_english": text,
            "plain_english": text,
            "translated": True,
            "translation_provider": "openai",
            "translation_model": "x" * 100,
            "translation_note": "n" * 500,
            "prompt_tokens": 10**9,
            "completion_tokens": 10**9,
        }
        for number in range(1, min(page_size, max_pages) + 1)
    ]
    stored = {
        "document_id": "0" * 24,
        "layout": "bilingual",
        "page_count": max_pages,
        "summary": _worst_text(summary_chars),
        "summary_method": "llm_map_reduce",
        "summary_info": {"method": "llm_map_reduce", "provider": "openai", "note": "n" * 500},
        "llm_usage": {"provider": "openai", "model": "x" * 100, "total_tokens": 10**12},
        "created_at": "2026-12-01T00:00:00+00:00",
    }
    report = "\n".join(text for _ in range(3 * len(pages)))
    response = result_page(
        stored,
        pages,
        page_from=1,
        page_size=page_size,
        read_report=lambda: report,
        budget=RESULT_BODY_BUDGET if budget is None else budget,
    )
    response.next = f"/api/v1/jobs/{'0' * 24}/result?page_from={max_pages}&page_size={page_size}"
    body = json.dumps(response.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    proxy_answer = {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "content-length": str(len(body))},
        "multiValueHeaders": {},
        "body": body,
        "isBase64Encoded": False,
    }
    return len(json.dumps(proxy_answer, ensure_ascii=False).encode())


def _bson_size(document: Mapping[str, Any]) -> int:
    import bson

    return len(bson.encode(dict(document)))


def largest_documents(max_pages: int, text_chars: int) -> dict[str, int]:
    """BSON bytes of the largest job, ai_extracted_content and page_results documents of a
    ``max_pages``-page job whose every free text holds ``text_chars`` 4-byte characters."""
    from datetime import UTC, datetime

    from bson import ObjectId
    from pagewise.logic.report import job_result
    from pagewise.models import STATUS_ORDER, Job, JobStatus, PageResult, SummaryInfo

    text = "\U0001d54f" * text_chars  # 4 bytes in UTF-8, the most a character takes in BSON
    now = datetime.now(UTC)
    history = [{"status": status, "at": now} for status in (*STATUS_ORDER, JobStatus.FAILED)]
    job = Job.model_validate(
        {
            "job_id": "0" * 24,
            "tenant": "t" * 1024,
            "client_name": "c" * 1024,
            "report_id": "r" * 1024,
            "file_name": "f" * 1024,
            "content_type": "application/pdf",
            "file_size": 10**9,
            "upload_key": "k" * 1024,
            "source_language": "spa",
            "detected_language": "spa",
            "processing_status": JobStatus.FAILED,
            "total_pages": max_pages,
            "current_page": max_pages,
            "pages_translated": max_pages,
            "output_pdf_path": "o" * 1024,
            "error_code": "internal_error",
            "error_message": text,
            "summary": text,
            "summary_info": {"method": "llm", "provider": "openai", "note": text},
            "execution_arn": "a" * 2048,
            "created_at": now,
            "updated_at": now,
            "completed_at": now,
            "status_history": history,
            "notify_email": "e" * 320,
            "callback_url": "u" * 2048,
        }
    )
    page = PageResult(
        job_id="0" * 24,
        page=max_pages,
        source="ocr",
        language="spa",
        ocr_text=text,
        legal_english=text,
        plain_english=text,
        translation_note=text,
        translation_provider="openai",
        translation_model="x" * 100,
    )
    pages = [page.model_copy(update={"page": n}) for n in range(1, max_pages + 1)]
    summary = (
        SummaryInfo.model_validate(job.summary_info.model_dump()) if job.summary_info else None
    )
    result = job_result(
        job, pages, summary or SummaryInfo(method="none", provider="offline"), "k" * 1024, now
    ).model_dump()
    return {
        "original_files": _bson_size({"_id": ObjectId(), **job.model_dump()}),
        "ai_extracted_content": _bson_size(
            {"_id": ObjectId(), "document_id": job.job_id, **result}
        ),
        "page_results": _bson_size({"_id": ObjectId(), **page.model_dump()}),
    }


def state_data_bytes(max_pages: int) -> int:
    """The largest state data of the parent execution: Prepare's page pointers in $.prepared
    (the Maps' own results are discarded: ResultPath null)."""
    pages = [{"job_id": "0" * 24, "page": n} for n in range(1, max_pages + 1)]
    state = {"job_id": "0" * 24, "prepared": {"pages": pages, "total_pages": max_pages}}
    return len(json.dumps(state).encode())


def run_checks(
    *,
    max_pages: int,
    page_size: int,
    text_chars: int,
    asl: Mapping[str, Any],
    measured: Mapping[str, Any],
    result_budget: int | None = None,
) -> list[Check]:
    checks = history_checks(asl, measured, max_pages)
    checks.append(
        Check(
            f"Step Functions state data with {max_pages} page pointers",
            state_data_bytes(max_pages),
            STATE_DATA_LIMIT,
        )
    )
    checks.append(
        Check(
            f"largest /result response ({page_size} pages of {text_chars:,} characters a field)",
            largest_result_body(max_pages, page_size, text_chars, result_budget),
            LAMBDA_RESPONSE_LIMIT,
            "Lambda's synchronous response, as the runtime returns it",
        )
    )
    for collection, size in largest_documents(max_pages, text_chars).items():
        checks.append(
            Check(f"largest {collection} document at {max_pages} pages", size, MONGO_DOCUMENT_LIMIT)
        )
    return checks


def default_checks() -> list[Check]:
    from pagewise.logic.results import MAX_PAGE_TEXT_CHARS, MAX_RESULT_PAGE_SIZE

    return run_checks(
        max_pages=template_max_pages(),
        page_size=MAX_RESULT_PAGE_SIZE,
        text_chars=MAX_PAGE_TEXT_CHARS,
        asl=load_asl(),
        measured=json.loads(MEASURED_PATH.read_text()),
    )


def main(argv: Iterable[str]) -> int:
    args = list(argv)
    if args[:1] == ["measure"]:
        counts = measure()
        record = {"command": MEASURE_COMMAND, **counts}
        MEASURED_PATH.write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(record, indent=2))
        return 0
    checks = default_checks()
    for check in checks:
        print(check.line())
    failed = [check for check in checks if not check.ok]
    if failed:
        print(f"{len(failed)} AWS limit check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
