"""The legal reader (issue 17) in-process: the glossaries and usage routes (SecantusDB, moto),
and the pipeline's states from the plan to the result with a fake LLM in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pymupdf
import pytest
from fastapi.testclient import TestClient
from pagewise.data.blocks import BlockTranslationStore
from pagewise.data.glossaries import GlossaryRepository
from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.data.usage import UsageRepository
from pagewise.documents.glossary import Glossary, GlossaryEntry
from pagewise.documents.llm import LlmConfig
from pagewise.logic.errors import JobFailed
from pagewise.logic.glossaries import GlossaryService
from pagewise.logic.pipeline import Pipeline
from pagewise.logic.results import result_page
from pagewise.logic.usage import UsageService
from pagewise.models import JobStatus
from pagewise.settings import PipelineSettings
from pagewise_api.main import create_app
from pymongo.database import Database

from tests.support.fake_openai import FakeOpenAI
from tests.unit.api.test_api import _auth, _create
from tests.unit.builders import a_job, a_job_service, a_token, api_settings, hs256_settings


@pytest.fixture
def api(db: Database[dict[str, Any]], aws: dict[str, str]) -> Iterator[TestClient]:
    """The API with the glossaries and usage services on the unit tests' MongoDB."""
    app = create_app(
        api_settings(aws, MAX_REQUEST_BYTES="200000"),
        hs256_settings(),
        a_job_service(db, aws, upload_max_bytes=1_000_000),
        GlossaryService(GlossaryRepository(db)),
        UsageService(UsageRepository(db)),
    )
    with TestClient(app) as client:
        yield client


GLOSSARY_CSV = "source,target,note\narrendatario,lessee,\nfianza legal,statutory deposit,LAU\n"


def _put(api: TestClient, token: str, name: str, body: str, kind: str = "text/csv") -> Any:
    return api.put(
        f"/api/v1/glossaries/{name}?source_language=es",
        content=body.encode(),
        headers={**_auth(token), "Content-Type": kind},
    )


# --- glossaries --------------------------------------------------------------------------------


def test_a_glossary_is_created_replaced_read_listed_and_deleted(api: TestClient) -> None:
    alice = a_token("alice")
    created = _put(api, alice, "lease", GLOSSARY_CSV)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    assert created.json()["entries"][1] == {
        "source": "fianza legal",
        "target": "statutory deposit",
        "note": "LAU",
    }
    body = {"source_language": "es", "entries": [{"source": "arrendador", "target": "landlord"}]}
    replaced = _put(api, alice, "lease", json.dumps(body), "application/json")
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    got = api.get("/api/v1/glossaries/lease", headers=_auth(alice)).json()
    assert got["entries"] == [{"source": "arrendador", "target": "landlord", "note": None}]
    listed = api.get("/api/v1/glossaries", headers=_auth(alice)).json()["glossaries"]
    assert [(g["name"], g["entry_count"], g["version"]) for g in listed] == [("lease", 1, 2)]
    assert api.delete("/api/v1/glossaries/lease", headers=_auth(alice)).status_code == 200
    assert api.get("/api/v1/glossaries/lease", headers=_auth(alice)).status_code == 404


def test_another_tenant_can_neither_read_nor_use_a_glossary(api: TestClient) -> None:
    assert _put(api, a_token("alice"), "lease", GLOSSARY_CSV).status_code == 201
    bob = a_token("bob")
    for method in (api.get, api.delete):
        answer = method("/api/v1/glossaries/lease", headers=_auth(bob))
        assert answer.status_code == 404 and answer.json()["error_code"] == "not_found"
    assert api.get("/api/v1/glossaries", headers=_auth(bob)).json() == {"glossaries": []}
    refused = _create(api, bob, glossary="lease")
    assert refused.status_code == 422
    assert "glossary 'lease' does not exist" in refused.json()["message"]
    # Bob's own glossary of the same name is his, and leaves Alice's alone.
    assert _put(api, bob, "lease", "arrendador,landlord\n").status_code == 201
    alice = api.get("/api/v1/glossaries/lease", headers=_auth(a_token("alice"))).json()
    assert len(alice["entries"]) == 2


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        ("lease", "".join(f"t{n},u{n}\n" for n in range(501)), 413, "glossary_too_large"),
        ("lease", "x" * 201 + ",long\n", 413, "glossary_too_large"),
        # Over this API's MaxRequestBytes (200 kB here) too: the general limit answers first.
        ("lease", "a,b\n" + " " * 300_000, 413, "request_too_large"),
        ("lease", "only-a-source\n", 422, "invalid_request"),
        ("../etc", "a,b\n", 404, "not_found"),  # a slash never reaches the route
        ("-bad-name", "a,b\n", 422, "invalid_request"),
    ],
    ids=["entries", "term-length", "body-bytes", "no-target", "slash", "bad-name"],
)
def test_glossary_limits_give_clear_errors(
    api: TestClient, name: str, body: str, status: int, code: str
) -> None:
    answer = _put(api, a_token("alice"), name, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error_code"] == code
    if code == "glossary_too_large":
        assert "at most" in answer.json()["message"]


def test_a_job_keeps_the_glossary_as_it_was_when_created(
    api: TestClient, db: Database[dict[str, Any]]
) -> None:
    alice = a_token("alice")
    _put(api, alice, "lease", GLOSSARY_CSV)
    created = _create(api, alice, glossary="lease", max_cost=0.5)
    assert created.status_code == 201, created.text
    _put(api, alice, "lease", "arrendador,landlord\n")  # edited while the job waits
    job = JobRepository(db).get(created.json()["job_id"])
    assert job is not None and job.glossary is not None
    assert [e.source for e in job.glossary.entries] == ["arrendatario", "fianza legal"]
    assert (job.glossary_version, job.max_cost) == (1, 0.5)
    status = api.get(f"/api/v1/jobs/{job.job_id}", headers=_auth(alice)).json()["details"]
    assert (status["glossary"], status["max_cost"]) == ("lease", 0.5)
    assert _create(api, alice, max_cost=-1).status_code == 422


def test_usage_sums_the_tenants_jobs_in_the_period(
    api: TestClient, db: Database[dict[str, Any]]
) -> None:
    jobs = JobRepository(db)
    now = datetime.now(UTC)
    used = {"pages": 3, "prompt_tokens": 1000, "completion_tokens": 500, "cost": 0.25}
    for tenant, created, status, usage in (
        ("alice", now - timedelta(days=1), JobStatus.COMPLETED, used),
        ("alice", now - timedelta(hours=1), JobStatus.COMPLETED, {**used, "cost": None}),
        ("alice", now - timedelta(hours=2), JobStatus.FAILED, None),
        ("alice", now - timedelta(days=40), JobStatus.COMPLETED, used),  # before the period
        ("bob", now - timedelta(hours=1), JobStatus.COMPLETED, used),  # another tenant
    ):
        jobs.insert(
            a_job(tenant, status, created_at=created, total_pages=3, usage=usage)  # type: ignore[arg-type]
        )
    since = (now - timedelta(days=7)).date().isoformat()
    answer = api.get(f"/api/v1/usage?from={since}", headers=_auth(a_token("alice")))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["jobs"], report["jobs_completed"], report["jobs_failed"]) == (3, 2, 1)
    assert report["pages"] == 9
    assert (report["prompt_tokens"], report["completion_tokens"]) == (2000, 1000)
    assert report["total_tokens"] == 3000
    assert report["cost"] == 0.25 and report["jobs_without_price"] == 1
    backwards = api.get(
        f"/api/v1/usage?from={now.date().isoformat()}&to={since}",
        headers=_auth(a_token("alice")),
    )
    assert backwards.status_code == 422


# --- the pipeline ------------------------------------------------------------------------------

# Page 1's last sentence ends on page 2; the glossary's term is on pages 1 and 3 only.
PAGES = [
    "PRIMERA. El arrendatario pagará la renta de ochocientos euros (800 €) dentro de los cinco",
    "primeros días de cada mes. SEGUNDA. La duración es de un año.",
    "TERCERA. El arrendatario devolverá la vivienda en buen estado.",
]
LESSEE = GlossaryEntry(source="arrendatario", target="lessee")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def pipeline(
    db: Database[dict[str, Any]], mongo_uri: str, aws: dict[str, str], fake: FakeOpenAI
) -> Pipeline:
    settings = PipelineSettings.model_validate(
        {
            "MONGODB_URI": mongo_uri,
            "UPLOADS_BUCKET": aws["bucket"],
            "LLM_MODEL": "fake-model",
            "LLM_PRICES": '{"fake-model": {"input": 1.0, "output": 2.0}}',
        }
    )
    config = LlmConfig(model="fake-model", base_url=fake.base_url, max_retries=0)
    return Pipeline(
        settings, JobRepository(db), PageRepository(db), ResultRepository(db),
        DocumentStore(aws["bucket"]), llm_config=lambda: config,
    )  # fmt: skip


def _read_job(pipeline: Pipeline, **fields: Any) -> str:
    """A queued job of PAGES (born-digital), prepared and read."""
    with pymupdf.open() as doc:
        for text in PAGES:
            doc.new_page().insert_textbox(pymupdf.Rect(50, 50, 550, 800), text, fontsize=11)
        data = doc.tobytes()
    job = a_job(status=JobStatus.QUEUED, **fields)
    pipeline.store.write(job.upload_key, data, "application/pdf")
    pipeline.jobs.insert(job)
    pipeline.prepare(job.job_id)
    for page in range(1, len(PAGES) + 1):
        pipeline.ocr_page(job.job_id, page)
    return job.job_id


def _prompts(fake: FakeOpenAI) -> list[str]:
    return [
        "\n".join(str(m["content"]) for m in r["body"]["messages"] if m["role"] == "user")
        for r in fake.requests
    ]


def test_a_job_over_its_max_cost_fails_before_any_llm_call(
    pipeline: Pipeline, fake: FakeOpenAI
) -> None:
    job_id = _read_job(pipeline, max_cost=0.000001)
    with pytest.raises(JobFailed):
        pipeline.plan_translation(job_id)
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.processing_status == JobStatus.FAILED
    assert job.error_code == "cost_limit_exceeded"
    assert job.cost_estimate is not None
    assert f"{job.cost_estimate['cost']:.4f} USD" in (job.error_message or "")
    assert "max_cost of 1e-06 USD" in (job.error_message or "")
    assert fake.requests == []


def test_the_plan_the_glossary_and_the_cited_summary_reach_the_result(
    pipeline: Pipeline, fake: FakeOpenAI
) -> None:
    glossary = Glossary(name="lease", source_language="es", entries=[LESSEE])
    job_id = _read_job(pipeline, glossary=glossary, glossary_version=1, max_cost=10.0)
    planned = pipeline.plan_translation(job_id)
    assert planned.continued_pages == 1 and planned.estimated_cost is not None
    fake.control({"miss_glossary": {"arrendatario": 1}})  # page 1 or 3 misses it once
    for page in (1, 2, 3):
        pipeline.translate_page(job_id, page)
    # The overlay's blocks use the glossary too (and one block call was retried for it).
    assert [r["kind"] for r in fake.requests].count("blocks") == 3 + 1
    block_store = BlockTranslationStore(pipeline.store)
    for n in (1, 3):
        blocks = block_store.load(job_id, n)
        assert blocks is not None and blocks.glossary_missed == []
        assert blocks.glossary_applied == [{"source": "arrendatario", "target": "lessee"}]
        assert "lessee" in " ".join(blocks.blocks.values())
        assert "arrendatario" not in " ".join(blocks.blocks.values())
    pipeline.summarise(job_id)
    pipeline.render(job_id)
    pipeline.finish(job_id)

    prompts = _prompts(fake)
    translations = [p for p in prompts if "<page>" in p]
    by_page = {n: [p for p in translations if p.startswith(f"Page {n}.")] for n in (1, 2, 3)}
    # The term is on pages 1 and 3 only; one of them needed a corrective retry.
    assert [len(by_page[n]) for n in (1, 2, 3)] in ([2, 1, 1], [1, 1, 2])
    for n in (1, 3):
        assert "- arrendatario → lessee" in by_page[n][0]
    assert "arrendatario" not in by_page[2][0]
    # The sentence crossing the break went whole with page 1, and page 2 starts after it.
    assert "primeros días de cada mes." in by_page[1][0]
    assert "primeros días" not in by_page[2][0] and "begun on page 1" in by_page[2][0]

    stored = pipeline.results.get(job_id)
    assert stored is not None
    # As GET /result answers it: the pages from page_results, the report text from S3.
    result = result_page(
        stored,
        pipeline.pages.slice_for_job(job_id, 1, 50),
        page_from=1,
        page_size=50,
        read_report=lambda: pipeline.store.read(stored["ai_report_key"]).decode(),
    ).model_dump(mode="json")
    pages = {page["page"]: page for page in result["page_results"]}
    assert pages[2]["continuation"] == "primeros días de cada mes."
    assert pages[1]["completion"] == "primeros días de cada mes."
    assert pages[2]["translated_source"].startswith("SEGUNDA.")
    assert "primeros días de cada mes" in pages[1]["legal_english"]
    for n in (1, 3):
        assert pages[n]["glossary_applied"] == [{"source": "arrendatario", "target": "lessee"}]
        assert pages[n]["glossary_missed"] == []
    assert pages[2]["glossary_applied"] == [] and pages[2]["glossary_missed"] == []
    cited = result["summary_cited"]
    assert (cited["facts_verified"], cited["facts_unverified"]) == (3, 1)
    wrong = [fact for fact in cited["facts"] if not fact["verified"]]
    assert wrong[0]["page"] == 1 and wrong[0]["category"] == "amounts"
    assert "(p. 1)" in result["summary"] and "(p. 3)" in result["summary"]
    assert "Continuation: this page begins" in result["ai_report_content"]
    assert "Glossary terms used: arrendatario → lessee" in result["ai_report_content"]
    assert result["cost_estimate"]["llm_calls"] == 7  # 3 pages, their blocks, the summary
    usage = result["llm_usage"]
    assert usage["cost"] == pytest.approx(
        (usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1e6
    )
    assert result["glossary"] == {
        "name": "lease",
        "version": 1,
        "source_language": "es",
        "target_language": "en",
        "entries": 1,
    }
    job = pipeline.jobs.get(job_id)
    assert job is not None and job.usage is not None
    assert job.usage["prompt_tokens"] == usage["prompt_tokens"]
