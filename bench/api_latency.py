"""API latency: p50/p95/p99 of POST /api/v1/jobs and GET /api/v1/jobs/{id}, next to a bare
Mangum "hello" on the same stack. The ratio to the baseline is the figure; the absolute times
depend on how busy this shared machine is.

Two paths, each with its own baseline measured in the same run:
- gateway: through LocalStack's API Gateway to the deployed functions (BenchHelloFunction is
  the baseline);
- in-process: the API's Mangum handler called directly with API Gateway proxy events, against
  the running MongoDB-wire server and LocalStack's S3 and Step Functions (a bare Mangum app is
  the baseline).

Needs the local stack (`make up`). Usage: python bench/api_latency.py [--requests N] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "functions" / "api")]

from benchkit import Figure, deployed_environment, fresh_tenant  # noqa: E402
from benchkit import table as figures_table  # noqa: E402
from pagewise_client.local import local_token, stack_outputs  # noqa: E402

JOB_BODY = {"file_name": "contrato.pdf", "content_type": "application/pdf", "file_size": 1234}
# Hundreds of jobs that are never uploaded: a tenant of their own, deleted at the end.
TENANT = fresh_tenant("bench-latency")


@dataclass(frozen=True)
class Latency:
    path: str
    operation: str
    samples_ms: list[float]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples_ms)
        # Nearest-rank percentile: with 200 samples p99 is the 2nd slowest, not interpolated.
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)


def measure(
    path: str, operation: str, call: Callable[[], object], count: int, warmup: int
) -> Latency:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return Latency(path, operation, samples)


def _expect(response: requests.Response, status: int) -> requests.Response:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.url}: {response.status_code} "
            f"{response.text[:300]}"
        )
    return response


def completed_job(api_url: str) -> str:
    """A job of the sample document run to completion: its status carries the workflow block
    read from Step Functions, as a client polling a real job sees it."""
    from pagewise_client.api import PagewiseClient

    client = PagewiseClient(api_url, local_token(TENANT))
    sample = ROOT / "samples" / "contrato-2-paginas.pdf"
    created = client.create_job(sample)
    client.upload(created["upload"], sample)
    status = client.wait(created["job_id"], timeout_seconds=300)
    if status["details"]["processing_status"] != "completed":
        raise SystemExit(f"the sample job did not complete: {status}")
    return str(created["job_id"])


def gateway_latencies(api_url: str, status_job: str, count: int, warmup: int) -> list[Latency]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {local_token(TENANT)}"
    hello_url = f"{api_url}/bench/hello"
    jobs_url = f"{api_url}/api/v1/jobs"
    _expect(session.get(hello_url), 200)
    created: list[str] = []

    def create() -> None:
        created.append(_expect(session.post(jobs_url, json=JOB_BODY), 201).json()["job_id"])

    results = [
        measure(
            "gateway",
            "bare Mangum hello",
            lambda: _expect(session.get(hello_url), 200),
            count,
            warmup,
        ),
        measure("gateway", "POST /api/v1/jobs", create, count, warmup),
        measure(
            "gateway",
            "GET /api/v1/jobs/{id}",
            lambda: _expect(session.get(f"{jobs_url}/{status_job}"), 200),
            count,
            warmup,
        ),
    ]
    for created_id in created:  # not timed: leave the database as it was
        session.delete(f"{jobs_url}/{created_id}")
    return results


def _proxy_event(method: str, path: str, token: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """An API Gateway REST proxy event, the shape Mangum receives in AWS."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Host": "bench.local",
        },
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": "bench",
            "stage": "local",
            "httpMethod": method,
            "path": path,
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


class _Context:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def in_process_latencies(status_job: str, count: int, warmup: int) -> list[Latency]:
    os.environ.update(deployed_environment("ApiFunction"))
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the access log would drown the table
    from fastapi import FastAPI
    from mangum import Mangum
    from pagewise_api.main import create_app

    handler = Mangum(create_app(), lifespan="off")
    bare = FastAPI()

    @bare.get("/bench/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    bare_handler = Mangum(bare, lifespan="off")
    token = local_token(TENANT)
    context = _Context()

    def call(target: Any, event: dict[str, Any], status: int) -> dict[str, Any]:
        response: dict[str, Any] = target(event, context)
        if response["statusCode"] != status:
            raise SystemExit(f"in-process {event['httpMethod']} {event['path']}: {response}")
        return response

    created: list[str] = []
    create_event = _proxy_event("POST", "/api/v1/jobs", token, JOB_BODY)

    def create() -> None:
        created.append(json.loads(call(handler, create_event, 201)["body"])["job_id"])

    status_event = _proxy_event("GET", f"/api/v1/jobs/{status_job}", token, None)
    hello_event = _proxy_event("GET", "/bench/hello", token, None)
    results = [
        measure(
            "in-process",
            "bare Mangum hello",
            lambda: call(bare_handler, hello_event, 200),
            count,
            warmup,
        ),
        measure("in-process", "POST /api/v1/jobs", create, count, warmup),
        measure(
            "in-process",
            "GET /api/v1/jobs/{id}",
            lambda: call(handler, status_event, 200),
            count,
            warmup,
        ),
    ]
    for job_id in created:
        call(handler, _proxy_event("DELETE", f"/api/v1/jobs/{job_id}", token, None), 200)
    return results


def table(results: list[Latency]) -> str:
    baselines = {r.path: r for r in results if r.operation == "bare Mangum hello"}
    lines = [
        "| path | operation | n | p50 ms | p95 ms | p99 ms | p50 / baseline |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.p50 / baselines[r.path].p50
        lines.append(
            f"| {r.path} | {r.operation} | {len(r.samples_ms)} | {r.p50:.1f} | "
            f"{r.percentile(95):.1f} | {r.percentile(99):.1f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def figures(results: list[Latency]) -> list[Figure]:
    """The latencies as rows of the results table: p50 against the bare hello's p50."""
    baselines = {r.path: r for r in results if r.operation == "bare Mangum hello"}
    return [
        Figure(
            "API latency",
            f"{r.path} {r.operation} p50 (n={len(r.samples_ms)})",
            r.p50,
            "ms",
            f"{r.path} bare Mangum hello p50" if r is not baselines[r.path] else "",
            baselines[r.path].p50 if r is not baselines[r.path] else None,
            f"p95 {r.percentile(95):.1f} ms, p99 {r.percentile(99):.1f} ms",
        )
        for r in results
    ]


def run(count: int, warmup: int) -> list[Latency]:
    api_url = stack_outputs()["ApiUrl"]
    status_job = completed_job(api_url)
    return [
        *gateway_latencies(api_url, status_job, count, warmup),
        *in_process_latencies(status_job, count, warmup),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="5 requests each: does it run?")
    args = parser.parse_args()
    count, warmup = (5, 1) if args.smoke else (args.requests, args.warmup)
    results = run(count, warmup)
    print(table(results))
    print()
    print(figures_table(figures(results)))


if __name__ == "__main__":
    main()
