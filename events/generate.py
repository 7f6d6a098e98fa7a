"""Writes the sample events: events/<FunctionLogicalId>/<case>.json, and events/env.json.

    .venvs/dev/bin/python events/generate.py

The events are checked in (for `sam local invoke -e`, `make invoke` and the tests); this
script is how they are made, so they change in one place. tests/unit/handlers/test_events.py runs
every one through its function's handler and checks that this script still writes them as
they are.

They name one job, JOB_ID, of tenant TENANT, with its upload at UPLOAD_KEY: the shapes are
AWS's (API Gateway REST proxy, SQS batch of S3 notifications, the states' inputs as the state
machine builds them, EventBridge). API events carry a bearer token signed with the local
stack's development secret (docs/api.md, "Local tokens"), valid until 2099: these files are for
the local stack only, where that secret is public anyway.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt

EVENTS = Path(__file__).resolve().parent
sys.path.insert(0, str(EVENTS.parent / "layers" / "common"))

from pagewise.logic.keys import upload_key  # noqa: E402  (the key the API makes)

# -- what the events point at: the local stack (samconfig.toml's localstack environment) -----
STACK = "pagewise"
ACCOUNT = "000000000000"
REGION = "us-east-1"
STAGE = "local"
ENDPOINT = "http://127.0.0.1:4566"
BUCKET = f"{STACK}-uploads-{ACCOUNT}-{REGION}"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{STACK}-pipeline"
MONGODB_URI = "mongodb://127.0.0.1:27017/?retryWrites=false&directConnection=true"
JWT_SECRET = "pagewise-local-development-secret-not-for-production"
JWT_ISSUER = "https://pagewise.local/"
JWT_AUDIENCE = "pagewise-api"

TENANT = "sample-tenant"
JOB_ID = "6650a1b2c3d4e5f6a7b8c9d0"
FILE_NAME = "contrato-2-paginas.pdf"
UPLOAD_KEY = upload_key(TENANT, JOB_ID, FILE_NAME)  # the tenant as base64url, as the API makes it
REQUEST_TIME_EPOCH = 1767225600000  # 2026-01-01T00:00:00Z: fixed, so the files are stable
TOKEN = jwt.encode(
    {
        "sub": TENANT,
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "iat": REQUEST_TIME_EPOCH // 1000,
        "exp": 4102444800,  # 2100-01-01
    },
    JWT_SECRET,
    algorithm="HS256",
)


def _api(
    method: str,
    path: str,
    *,
    resource: str = "/{proxy+}",
    query: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    authorized: bool = True,
    request_id: str,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as `sam local generate-event apigateway aws-proxy`
    and LocalStack build it for the `/{proxy+}` route of the stage."""
    headers = {
        "Accept": "application/json",
        "Host": f"{ENDPOINT.split('://')[1]}",
        "User-Agent": "pagewise-sample-event",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "4566",
        "X-Forwarded-Proto": "http",
    }
    if authorized:
        headers["Authorization"] = f"Bearer {TOKEN}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    proxy = path.lstrip("/")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": {"proxy": proxy} if resource == "/{proxy+}" else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "samplepagewiseapi",
            "domainName": headers["Host"],
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers["User-Agent"]},
            "path": f"/{STAGE}{path}" + (f"?{urlencode(query)}" if query else ""),
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "requestTimeEpoch": REQUEST_TIME_EPOCH,
            "resourceId": "sample",
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def _s3_notification() -> dict[str, Any]:
    """The S3 ObjectCreated notification S3 puts on the uploads queue."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-01-01T00:00:05.000Z",
                "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "AWS:AIDASAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": "4C7F9E1A2B3D5E6F",
                    "x-amz-id-2": "sample/4C7F9E1A2B3D5E6F=",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "uploads-to-queue",
                    "bucket": {
                        "name": BUCKET,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{BUCKET}",
                    },
                    "object": {
                        "key": quote_plus(UPLOAD_KEY, safe="/"),  # form-encoded, as S3 sends it
                        "size": 61734,
                        "eTag": "0123456789abcdef0123456789abcdef",
                        "sequencer": "0065A1B2C3D4E5F600",
                    },
                },
            }
        ]
    }


def _sqs_record(
    message_id: str, body: dict[str, Any], queue: str = "UploadsQueue"
) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB{message_id.replace('-', '')}",
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(REQUEST_TIME_EPOCH + 5000),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(REQUEST_TIME_EPOCH + 5100),
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-{queue}",
        "awsRegion": REGION,
    }


def events() -> dict[str, dict[str, Any]]:
    """Every sample event by its path under events/."""
    job = {"job_id": JOB_ID}
    page = {"job_id": JOB_ID, "page": 1}
    caught = {
        # What the pipeline's Catch (ResultPath $.error) hands MarkFailed: a state that found
        # the PDF corrupt failed the job itself and raised JobFailed.
        "job_id": JOB_ID,
        "error": {
            "Error": "JobFailed",
            "Cause": json.dumps(
                {
                    "errorMessage": "corrupt_document: The PDF file could not be opened.",
                    "errorType": "JobFailed",
                    "requestId": "7d3e2f1a-0b4c-4d5e-8f6a-9b0c1d2e3f4a",
                    "stackTrace": ['  File "/var/task/app.py", line 17, in handler\n'],
                }
            ),
        },
    }
    execution_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{STACK}-pipeline:{JOB_ID}"
    timed_out = {
        "version": "0",
        "id": "315c1398-40ff-a850-213b-158f73e60175",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": ACCOUNT,
        "time": "2026-01-01T01:00:00Z",
        "region": REGION,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": STATE_MACHINE_ARN,
            "name": JOB_ID,
            "status": "TIMED_OUT",
            "startDate": REQUEST_TIME_EPOCH + 6000,
            "stopDate": REQUEST_TIME_EPOCH + 3606000,
            "input": json.dumps(job),
            "output": None,
            "error": None,
            "cause": None,
        },
    }
    return {
        "ApiFunction/health.json": _api(
            "GET", "/api/v1/health", authorized=False, request_id="sample-health"
        ),
        "ApiFunction/create-job.json": _api(
            "POST",
            "/api/v1/jobs",
            body={
                "file_name": FILE_NAME,
                "content_type": "application/pdf",
                "file_size": 61734,
                "client_name": "Sample Client",
                "report_id": "R-2026-001",
                "source_language": "es",
            },
            request_id="sample-create-job",
        ),
        "ApiFunction/get-job.json": _api(
            "GET", f"/api/v1/jobs/{JOB_ID}", request_id="sample-get-job"
        ),
        "ApiFunction/list-jobs.json": _api(
            "GET", "/api/v1/jobs", query={"limit": "10"}, request_id="sample-list-jobs"
        ),
        "ApiFunction/get-result.json": _api(
            "GET", f"/api/v1/jobs/{JOB_ID}/result", request_id="sample-get-result"
        ),
        "BenchHelloFunction/hello.json": _api(
            "GET",
            "/bench/hello",
            resource="/bench/hello",
            authorized=False,
            request_id="sample-bench-hello",
        ),
        "IngestFunction/s3-upload-batch.json": {
            "Records": [
                _sqs_record("0b6f1c3e-5d2a-4f8b-9c7e-1a2b3c4d5e6f", _s3_notification()),
                # S3 sends this once when the notification is configured; ingest skips it.
                _sqs_record(
                    "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    {
                        "Service": "Amazon S3",
                        "Event": "s3:TestEvent",
                        "Time": "2026-01-01T00:00:00.000Z",
                        "Bucket": BUCKET,
                        "RequestId": "5582815E1AEA5ADF",
                        "HostId": "sample",
                    },
                ),
            ]
        },
        "PrepareFunction/job.json": job,
        "OcrPageFunction/page.json": page,
        "TranslatePageFunction/page.json": page,
        # PlanTranslation (issue 17) runs in the same function.
        "TranslatePageFunction/plan.json": {**job, "plan": True},
        "SummariseFunction/job.json": job,
        "RenderFunction/job.json": job,
        "FinishFunction/job.json": job,
        "MarkFailedFunction/caught.json": caught,
        "MarkFailedFunction/timed-out.json": timed_out,
        # What the job repository posts on the notifications queue when a job ends.
        "NotifyFunction/job-ended-batch.json": {
            "Records": [
                _sqs_record("3f2e1d0c-9b8a-4765-8432-10fedcba9876", job, queue="NotificationsQueue")
            ]
        },
    }


def environment() -> dict[str, dict[str, str]]:
    """events/env.json: per-function variables for `sam local invoke --env-vars` against the
    local stack (with `--docker-network host`, 127.0.0.1 is the host's)."""
    common = {
        "MONGODB_URI": MONGODB_URI,
        "MONGODB_DATABASE": "pagewise",
        "UPLOADS_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "pagewise",
        "POWERTOOLS_METRICS_NAMESPACE": "Pagewise",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # Empty: a local invoke queues no notification. To have it queue one, set the stack's
        # queue URL (aws sqs list-queues) here.
        "NOTIFICATIONS_QUEUE_URL": "",
        # DocumentDB's CA bundle (s3://...); the local MongoDB has no TLS.
        "MONGODB_TLS_CA_S3_URI": "",
    }
    jwt_settings = {
        "JWT_ALGORITHMS": "HS256",
        "JWT_SECRET": JWT_SECRET,
        "JWT_JWKS_URL": "",
        "JWT_ISSUER": JWT_ISSUER,
        "JWT_AUDIENCE": JWT_AUDIENCE,
    }
    llm = {
        "LLM_MODEL": "",
        "LLM_BASE_URL": "",
        "LLM_API_KEY": "",
        "LLM_API_KEY_SECRET_ARN": "",
        "LLM_PRICES": "",
    }
    return {
        "ApiFunction": {
            **common,
            **jwt_settings,
            "STATE_MACHINE_ARN": STATE_MACHINE_ARN,
            "UPLOAD_MAX_BYTES": "52428800",
            "MAX_REQUEST_BYTES": "6291456",
            "MAX_ACTIVE_JOBS_PER_TENANT": "1000",
            "RETENTION_DAYS": "7",  # as samconfig.toml's local stack
            "LOCAL_DEV_TOKENS": "1",
            "ALLOW_LOCAL_CALLBACKS": "1",
        },
        "BenchHelloFunction": dict(common),
        "IngestFunction": {
            **common,
            "STATE_MACHINE_ARN": STATE_MACHINE_ARN,
            "UPLOAD_MAX_BYTES": "52428800",
        },
        "PrepareFunction": dict(common),
        "OcrPageFunction": {**common, "OMP_THREAD_LIMIT": "1"},
        "TranslatePageFunction": {**common, **llm},
        "SummariseFunction": {**common, **llm},
        "RenderFunction": dict(common),
        "FinishFunction": dict(common),
        "MarkFailedFunction": dict(common),
        "NotifyFunction": {
            **common,
            "NOTIFY_FROM_EMAIL": "notifications@pagewise.local",
            # The links in emails and webhooks; the real one is `make outputs`' ApiUrl.
            "PUBLIC_API_URL": f"{ENDPOINT}/_aws/execute-api/samplepagewiseapi/{STAGE}",
            "WEBHOOK_SECRET": "pagewise-local-webhook-secret-not-for-production",
            "WEBHOOK_SECRET_ARN": "",
            "NOTIFY_RETRY_BASE_SECONDS": "2",
            "ALLOW_LOCAL_CALLBACKS": "1",
        },
    }


def rendered() -> dict[str, str]:
    """Every file's text, by its path under events/."""
    files = {name: json.dumps(event, indent=2) + "\n" for name, event in events().items()}
    files["env.json"] = json.dumps(environment(), indent=2) + "\n"
    return files


def main() -> int:
    for name, text in rendered().items():
        path = EVENTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path.relative_to(EVENTS.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
