"""The sample events (events/): every one goes through its function's real handler, with the
function's variables from events/env.json, on SecantusDB and moto; so they never go stale.
Also the handlers' metrics (EMF lines on stdout), and that events/ and env.json cover every
function of template.yaml."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.logic.pipeline import Pipeline
from pagewise.models import ErrorCode, JobStatus
from pagewise.settings import PipelineSettings
from pymongo.database import Database

from tests.unit.builders import a_job

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
SAMPLE_PDF = ROOT / "samples" / "contrato-2-paginas.pdf"
sys.path.insert(0, str(EVENTS))

import generate  # noqa: E402  (events/generate.py)

ENVIRONMENT: dict[str, dict[str, str]] = json.loads((EVENTS / "env.json").read_text())
EVENT_FILES = sorted(str(path.relative_to(EVENTS)) for path in EVENTS.glob("*/*.json"))


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...), read as None."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
TEMPLATE = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
FUNCTIONS: dict[str, dict[str, Any]] = {
    name: resource["Properties"]
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


# -- the world the handlers run in ------------------------------------------------------------


@dataclass
class World:
    db: Database[dict[str, Any]]
    mongo_uri: str
    pipeline: Pipeline
    monkeypatch: pytest.MonkeyPatch

    def handler(self, function: str) -> Callable[..., Any]:
        """The function's handler module, imported afresh (its init phase) with the function's
        variables from env.json; only MongoDB (the test's) and the endpoint (moto) differ."""
        for key, value in ENVIRONMENT[function].items():
            self.monkeypatch.setenv(key, value)
        self.monkeypatch.setenv("MONGODB_URI", self.mongo_uri)
        self.monkeypatch.setenv("MONGODB_DATABASE", self.db.name)
        self.monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        code = ROOT / str(FUNCTIONS[function]["CodeUri"]) / "app.py"
        name = f"events_{function}_{uuid.uuid4().hex[:8]}"
        spec = importlib.util.spec_from_file_location(name, code)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.handler  # type: ignore[no-any-return]

    def invoke(self, event_file: str) -> Any:
        function = event_file.split("/")[0]
        event = json.loads((EVENTS / event_file).read_text())
        return self.handler(function)(event, _context(function))

    def job_status(self) -> JobStatus | None:
        job = self.pipeline.jobs.get(generate.JOB_ID)
        return job.processing_status if job else None


def _context(function: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=f"pagewise-{function}",
        memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:pagewise-{function}",
        aws_request_id=str(uuid.uuid4()),
    )


@pytest.fixture
def world(
    db: Database[dict[str, Any]], mongo_uri: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    # The local stack's account, so env.json's bucket and state machine ARN hold as they are.
    for key, value in {
        "MOTO_ACCOUNT_ID": generate.ACCOUNT,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": generate.REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=generate.BUCKET)
        arn = boto3.client("stepfunctions").create_state_machine(
            name=f"{generate.STACK}-pipeline",
            definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn=f"arn:aws:iam::{generate.ACCOUNT}:role/unit",
        )["stateMachineArn"]
        assert arn == generate.STATE_MACHINE_ARN
        store = DocumentStore(generate.BUCKET)
        store.write(generate.UPLOAD_KEY, SAMPLE_PDF.read_bytes(), "application/pdf")
        settings = PipelineSettings.model_validate(
            {"MONGODB_URI": mongo_uri, "UPLOADS_BUCKET": generate.BUCKET}
        )
        pipeline = Pipeline(
            settings, JobRepository(db), PageRepository(db), ResultRepository(db), store
        )
        yield World(db, mongo_uri, pipeline, monkeypatch)


def _seed(world: World, status: JobStatus, **fields: Any) -> None:
    job = a_job(
        tenant=generate.TENANT,
        status=status,
        job_id=generate.JOB_ID,
        file_name=generate.FILE_NAME,
        **fields,
    ).model_copy(update={"upload_key": generate.UPLOAD_KEY})
    world.pipeline.jobs.insert(job)


STEPS = (
    "prepare",
    "ocr_page",
    "plan_translation",
    "translate_page",
    "summarise",
    "render",
    "finish",
)


def _run_pipeline_before(world: World, step: str) -> None:
    """A queued job taken (page 1 only) through the states before ``step``."""
    _seed(world, JobStatus.QUEUED)
    pipeline, job_id = world.pipeline, generate.JOB_ID
    for name in STEPS[: STEPS.index(step)]:
        method = getattr(pipeline, name)
        method(job_id, 1) if name.endswith("_page") else method(job_id)


def emf(output: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents among the stdout lines."""
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def metric_values(documents: list[dict[str, Any]], name: str) -> list[tuple[float, dict[str, str]]]:
    """(value, dimensions) of every data point of metric ``name``."""
    found = []
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Pagewise"
            if any(metric["Name"] == name for metric in directive["Metrics"]):
                dimensions = {key: document[key] for key in directive["Dimensions"][0]}
                values = document[name] if isinstance(document[name], list) else [document[name]]
                found += [(float(value), dimensions) for value in values]
    return found


# -- one check per event file -------------------------------------------------------------------


def _body(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])


def case_health(world: World) -> None:
    result = world.invoke("ApiFunction/health.json")
    assert result["statusCode"] == 200
    assert _body(result) == {"status": "ok", "checks": {"mongodb": "ok", "s3": "ok"}}


def case_create_job(world: World) -> None:
    result = world.invoke("ApiFunction/create-job.json")
    assert result["statusCode"] == 201, result["body"]
    body = _body(result)
    assert body["status"] == "awaiting_upload"
    assert body["status_url"].endswith(f"/api/v1/jobs/{body['job_id']}")
    assert body["upload"]["fields"]["key"] == (
        generate.upload_key(generate.TENANT, body["job_id"], generate.FILE_NAME)
    )
    created = world.pipeline.jobs.get(body["job_id"])
    assert created is not None and created.source_language == "es"


def case_get_job(world: World) -> None:
    _seed(world, JobStatus.OCR_STARTED, total_pages=2, current_page=1)
    result = world.invoke("ApiFunction/get-job.json")
    assert result["statusCode"] == 200, result["body"]
    body = _body(result)
    assert body["job_id"] == generate.JOB_ID
    assert body["details"]["processing_status"] == "ocr_started"
    assert (body["details"]["current_page"], body["details"]["total_pages"]) == (1, 2)


def case_list_jobs(world: World) -> None:
    _seed(world, JobStatus.QUEUED)
    result = world.invoke("ApiFunction/list-jobs.json")
    assert result["statusCode"] == 200, result["body"]
    assert [job["job_id"] for job in _body(result)["jobs"]] == [generate.JOB_ID]


def case_get_result(world: World) -> None:
    _run_pipeline_before(world, "finish")
    world.pipeline.finish(generate.JOB_ID)
    result = world.invoke("ApiFunction/get-result.json")
    assert result["statusCode"] == 200, result["body"]
    body = _body(result)
    assert [page["page"] for page in body["page_results"]] == [1]
    assert body["page_results"][0]["source"] == "text_layer"
    assert body["summary"]


def case_bench_hello(world: World) -> None:
    result = world.invoke("BenchHelloFunction/hello.json")
    assert (result["statusCode"], _body(result)) == (200, {"hello": "world"})


def case_ingest(world: World) -> None:
    _seed(world, JobStatus.AWAITING_UPLOAD)
    result = world.invoke("IngestFunction/s3-upload-batch.json")
    assert result == {"batchItemFailures": []}
    assert world.job_status() == JobStatus.QUEUED
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=generate.STATE_MACHINE_ARN
    )["executions"]
    assert [execution["name"] for execution in executions] == [generate.JOB_ID]


def case_prepare(world: World) -> None:
    _run_pipeline_before(world, "prepare")
    result = world.invoke("PrepareFunction/job.json")
    assert result["total_pages"] == 2
    assert result["pages"] == [{"job_id": generate.JOB_ID, "page": n} for n in (1, 2)]
    assert world.job_status() == JobStatus.OCR_STARTED


def case_ocr_page(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _run_pipeline_before(world, "ocr_page")
    capsys.readouterr()
    result = world.invoke("OcrPageFunction/page.json")
    assert (result["page"], result["source"]) == (1, "text_layer")
    documents = emf(capsys.readouterr().out)
    [(count, dimensions)] = metric_values(documents, "PagesProcessed")
    assert count == 1 and dimensions["source"] == "text_layer" and "service" in dimensions
    assert metric_values(documents, "OcrSeconds") == []  # no Tesseract for a text layer


def case_plan_translation(world: World) -> None:
    _run_pipeline_before(world, "plan_translation")
    result = world.invoke("TranslatePageFunction/plan.json")
    # Offline: no LLM call to pay for; the estimate is on the job.
    assert (result["estimated_tokens"], result["estimated_cost"]) == (0, 0.0)
    job = world.pipeline.jobs.get(generate.JOB_ID)
    assert job is not None and job.cost_estimate is not None
    assert job.cost_estimate["llm_calls"] == 0


def case_translate_page(world: World) -> None:
    _run_pipeline_before(world, "translate_page")
    result = world.invoke("TranslatePageFunction/page.json")
    # Offline: an Apertium gist where the pair is installed, else the source text.
    assert result["page"] == 1 and result["provider"] in ("apertium", "offline")
    assert (result["prompt_tokens"], result["completion_tokens"]) == (0, 0)
    page = world.pipeline.pages.get(generate.JOB_ID, 1)
    assert page is not None and page.legal_english


def case_summarise(world: World) -> None:
    _run_pipeline_before(world, "summarise")
    result = world.invoke("SummariseFunction/job.json")
    assert result["method"] == "extractive"
    assert world.job_status() == JobStatus.SUMMARISING


def case_render(world: World) -> None:
    _run_pipeline_before(world, "render")
    result = world.invoke("RenderFunction/job.json")
    assert result["output_key"].endswith("_translated.pdf")
    assert world.pipeline.store.read(result["output_key"]).startswith(b"%PDF")


def case_finish(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _run_pipeline_before(world, "finish")
    capsys.readouterr()
    result = world.invoke("FinishFunction/job.json")
    assert result["completed_now"] is True and world.job_status() == JobStatus.COMPLETED
    assert [value for value, _ in metric_values(emf(capsys.readouterr().out), "JobsCompleted")] == [
        1
    ]
    world.invoke("FinishFunction/job.json")  # a retried Finish: not counted again
    assert metric_values(emf(capsys.readouterr().out), "JobsCompleted") == []


def case_mark_failed_caught(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # The state found the PDF corrupt and failed the job itself before raising JobFailed.
    _seed(
        world,
        JobStatus.FAILED,
        error_code=ErrorCode.CORRUPT_DOCUMENT,
        error_message="The PDF file could not be opened.",
    )
    capsys.readouterr()
    result = world.invoke("MarkFailedFunction/caught.json")
    assert result["error_code"] == "corrupt_document" and result["first_report"] is True
    [(count, dimensions)] = metric_values(emf(capsys.readouterr().out), "JobsFailed")
    assert count == 1 and dimensions["error_code"] == "corrupt_document"
    # The EventBridge rule's FAILED event for the same execution: the job is counted once.
    again = world.invoke("MarkFailedFunction/caught.json")
    assert again["first_report"] is False
    assert metric_values(emf(capsys.readouterr().out), "JobsFailed") == []


def case_mark_failed_timed_out(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(world, JobStatus.TRANSLATION_STARTED)
    capsys.readouterr()
    result = world.invoke("MarkFailedFunction/timed-out.json")
    assert result["error_code"] == "timeout" and result["already_final"] is False
    assert world.job_status() == JobStatus.FAILED
    [(_, dimensions)] = metric_values(emf(capsys.readouterr().out), "JobsFailed")
    assert dimensions["error_code"] == "timeout"


def case_notify(world: World) -> None:
    # A finished job with neither an email nor a webhook to notify: nothing owed, no retry.
    _seed(world, JobStatus.COMPLETED)
    assert world.invoke("NotifyFunction/job-ended-batch.json") == {"batchItemFailures": []}


CASES: dict[str, Callable[..., None]] = {
    "ApiFunction/health.json": case_health,
    "ApiFunction/create-job.json": case_create_job,
    "ApiFunction/get-job.json": case_get_job,
    "ApiFunction/list-jobs.json": case_list_jobs,
    "ApiFunction/get-result.json": case_get_result,
    "BenchHelloFunction/hello.json": case_bench_hello,
    "IngestFunction/s3-upload-batch.json": case_ingest,
    "PrepareFunction/job.json": case_prepare,
    "OcrPageFunction/page.json": case_ocr_page,
    "TranslatePageFunction/page.json": case_translate_page,
    "TranslatePageFunction/plan.json": case_plan_translation,
    "SummariseFunction/job.json": case_summarise,
    "RenderFunction/job.json": case_render,
    "FinishFunction/job.json": case_finish,
    "MarkFailedFunction/caught.json": case_mark_failed_caught,
    "MarkFailedFunction/timed-out.json": case_mark_failed_timed_out,
    "NotifyFunction/job-ended-batch.json": case_notify,
}


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_every_event_runs_through_its_handler(
    event_file: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES.get(event_file)
    assert case is not None, f"{event_file} has no check in CASES"
    if "capsys" in case.__code__.co_varnames[: case.__code__.co_argcount]:
        case(world, capsys)
    else:
        case(world)


def test_a_scanned_page_reports_its_ocr_seconds(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_pipeline_before(world, "ocr_page")
    event = json.loads((EVENTS / "OcrPageFunction/page.json").read_text())
    handler = world.handler("OcrPageFunction")
    capsys.readouterr()
    result = handler({**event, "page": 2}, _context("OcrPageFunction"))  # page 2 is a scan
    assert result["source"] == "ocr"
    documents = emf(capsys.readouterr().out)
    [(_, dimensions)] = metric_values(documents, "PagesProcessed")
    assert dimensions["source"] == "ocr"
    [(seconds, _)] = metric_values(documents, "OcrSeconds")
    assert seconds == pytest.approx(result["ocr_seconds"]) and seconds > 0


def test_an_ingest_rejection_counts_the_failure_by_its_code(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(world, JobStatus.AWAITING_UPLOAD)
    world.pipeline.store.write(generate.UPLOAD_KEY, b"MZ\x90\x00 not a pdf", "application/pdf")
    capsys.readouterr()
    assert world.invoke("IngestFunction/s3-upload-batch.json") == {"batchItemFailures": []}
    assert world.job_status() == JobStatus.FAILED
    [(_, dimensions)] = metric_values(emf(capsys.readouterr().out), "JobsFailed")
    assert dimensions["error_code"] == "unsupported_file_type"


# -- coverage of template.yaml -----------------------------------------------------------------


def test_every_function_has_an_event_and_env_vars() -> None:
    with_events = {event_file.split("/")[0] for event_file in EVENT_FILES}
    assert with_events == set(FUNCTIONS)
    assert set(ENVIRONMENT) == set(FUNCTIONS)
    global_names = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for function, properties in FUNCTIONS.items():
        own = set(((properties.get("Environment") or {}).get("Variables")) or {})
        missing = (global_names | own) - set(ENVIRONMENT[function])
        assert not missing, f"events/env.json lacks {sorted(missing)} for {function}"


def test_the_checked_in_events_are_what_generate_py_writes() -> None:
    for name, text in generate.rendered().items():
        assert (EVENTS / name).read_text() == text, f"run events/generate.py ({name} differs)"
    assert sorted(name for name in generate.rendered() if name != "env.json") == EVENT_FILES
