"""The API in-process (FastAPI TestClient), with SecantusDB and moto behind it."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pagewise.data.jobs import JobRepository
from pagewise_api.main import create_app
from pymongo.database import Database

from tests.unit.builders import (
    AUDIENCE,
    ISSUER,
    a_job_service,
    a_token,
    api_settings,
    hs256_settings,
)

MAX_BYTES = 1_000_000


@pytest.fixture
def api(db: Database[dict[str, Any]], aws: dict[str, str]) -> Iterator[TestClient]:
    settings = api_settings(aws, UPLOAD_MAX_BYTES=str(MAX_BYTES), MAX_REQUEST_BYTES="200000")
    service = a_job_service(db, aws, upload_max_bytes=MAX_BYTES)
    with TestClient(create_app(settings, hs256_settings(), service)) as client:
        yield client


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(api: TestClient, token: str, **body: Any) -> Any:
    payload = {"file_name": "contrato.pdf", "content_type": "application/pdf", "file_size": 1234}
    return api.post("/api/v1/jobs", json={**payload, **body}, headers=_auth(token))


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _rs256_token() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return a_token(secret=pem.decode(), algorithm="RS256")


BAD_TOKENS = {
    "expired": lambda: a_token(exp=1_000_000),
    "wrong issuer": lambda: a_token(iss="https://evil.test/"),
    "wrong audience": lambda: a_token(aud="someone-else"),
    "no subject": lambda: a_token(subject=None),
    "empty subject": lambda: a_token(subject=""),
    "other secret": lambda: a_token(secret="another-secret-of-a-decent-length-5678"),
    "alg none": lambda: _unsigned(
        {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": 9_999_999_999}
    ),
    "RS256 when HS256 is configured": _rs256_token,
    "malformed": lambda: "not.a.token",
}


def test_health_needs_no_token_and_checks_dependencies(api: TestClient) -> None:
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"mongodb": "ok", "s3": "ok"}}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_every_bad_token_is_401_without_detail(api: TestClient, case: str) -> None:
    response = _create(api, BAD_TOKENS[case]())
    assert response.status_code == 401, case
    body = response.json()
    assert body["error_code"] == "unauthorized"
    assert body["message"] == "A valid bearer token is required."
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic YWxpY2U6cHc=", "Token abc"])
def test_missing_or_other_schemes_are_401(api: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = api.get("/api/v1/jobs", headers=headers)
    assert response.status_code == 401


def test_create_returns_a_presigned_post_pinned_to_the_tenant_key(api: TestClient) -> None:
    response = _create(api, a_token("alice"), client_name="acme", report_id="R-7")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "awaiting_upload"
    assert body["document_id"] == body["job_id"]
    assert body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    fields = body["upload"]["fields"]
    assert fields["key"] == f"uploads/alice/{body['job_id']}/contrato.pdf"
    assert fields["Content-Type"] == "application/pdf"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, MAX_BYTES] in policy["conditions"]
    assert ["eq", "$key", fields["key"]] in policy["conditions"]
    assert body["upload"]["max_bytes"] == MAX_BYTES


@pytest.mark.parametrize(
    "body",
    [
        {"content_type": "text/plain"},
        {"content_type": "application/x-msdownload"},
        {"file_size": 0},
        {"file_size": MAX_BYTES + 1},
        {"file_name": ""},
    ],
)
def test_invalid_requests_are_422_with_a_message(api: TestClient, body: dict[str, Any]) -> None:
    response = _create(api, a_token(), **body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "invalid_request"
    assert response.json()["message"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b\\..\\c.pdf", "evil\x00\x1f.pdf"])
def test_file_names_cannot_escape_the_job_prefix(api: TestClient, name: str) -> None:
    response = _create(api, a_token("alice"), file_name=name)
    assert response.status_code == 201
    body = response.json()
    key = body["upload"]["fields"]["key"]
    prefix = f"uploads/alice/{body['job_id']}/"
    assert key.startswith(prefix)
    rest = key[len(prefix) :]
    assert "/" not in rest and "\\" not in rest and ".." not in rest
    assert all(ch.isprintable() for ch in rest)
    status = api.get(body["status_url"], headers=_auth(a_token("alice"))).json()
    assert status["details"]["file_name"] == name  # kept as given, for display


def test_a_job_is_visible_to_its_tenant_only(api: TestClient) -> None:
    job_id = _create(api, a_token("alice")).json()["job_id"]
    mine = api.get(f"/api/v1/jobs/{job_id}", headers=_auth(a_token("alice")))
    assert mine.status_code == 200
    assert mine.json()["workflow"]["state"] == "PENDING"
    assert mine.json()["details"]["processing_status"] == "awaiting_upload"
    assert mine.json()["download_url"] is None
    for path in ("", "/download", "/result", "/history"):
        other = api.get(f"/api/v1/jobs/{job_id}{path}", headers=_auth(a_token("mallory")))
        assert other.status_code == 404, path
    deleted = api.delete(f"/api/v1/jobs/{job_id}", headers=_auth(a_token("mallory")))
    assert deleted.status_code == 404
    for unknown in ("0123456789abcdef01234567", "nope", "..%2F..%2Fetc"):
        assert api.get(f"/api/v1/jobs/{unknown}", headers=_auth(a_token())).status_code == 404


def test_history_of_a_job_without_an_execution_is_pending(api: TestClient) -> None:
    job_id = _create(api, a_token()).json()["job_id"]
    response = api.get(f"/api/v1/jobs/{job_id}/history", headers=_auth(a_token()))
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == job_id and body["processing_status"] == "awaiting_upload"
    assert (body["status"], body["execution_arn"], body["states"]) == ("PENDING", None, [])
    other = api.get(f"/api/v1/jobs/{job_id}/history", headers=_auth(a_token("mallory")))
    assert other.status_code == 404
    assert other.json()["error_code"] == "not_found"
    assert api.get(f"/api/v1/jobs/{job_id}/history").status_code == 401


def test_history_summarises_the_execution_per_state(api: TestClient) -> None:
    # The one-shot upload starts the execution at once (moto records a canned history).
    created = api.post(
        "/api/v1/jobs/upload",
        headers=_auth(a_token()),
        files={"file": ("scan.pdf", b"%PDF-1.7\n" + b"%" * 100, "application/pdf")},
    ).json()
    response = api.get(f"/api/v1/jobs/{created['job_id']}/history", headers=_auth(a_token()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["execution_arn"].endswith(f":{created['job_id']}")
    assert body["status"] == "SUCCEEDED"
    assert body["duration_ms"] == 20_000
    (state,) = body["states"]
    assert state["state"] == "A State" and state["type"] == "Pass"
    assert state["status"] == "succeeded" and state["duration_ms"] == 0
    assert (state["attempts"], state["retries"], state["error"]) == (1, 0, None)


def test_download_before_completion_is_404(api: TestClient) -> None:
    job_id = _create(api, a_token()).json()["job_id"]
    response = api.get(
        f"/api/v1/jobs/{job_id}/download", headers=_auth(a_token()), follow_redirects=False
    )
    assert response.status_code == 404


def test_list_pages_through_the_callers_jobs_newest_first(api: TestClient) -> None:
    created = [_create(api, a_token("lister")).json()["job_id"] for _ in range(3)]
    _create(api, a_token("someone-else"))
    first = api.get("/api/v1/jobs?limit=2", headers=_auth(a_token("lister"))).json()
    assert [job["job_id"] for job in first["jobs"]] == created[::-1][:2]
    rest = api.get(
        f"/api/v1/jobs?limit=2&cursor={first['next_cursor']}", headers=_auth(a_token("lister"))
    ).json()
    assert [job["job_id"] for job in rest["jobs"]] == [created[0]]
    assert rest["next_cursor"] is None


def test_deleting_an_unstarted_job_cancels_it_then_deletes_it(api: TestClient) -> None:
    job_id = _create(api, a_token()).json()["job_id"]
    first = api.delete(f"/api/v1/jobs/{job_id}", headers=_auth(a_token()))
    assert first.json()["outcome"] == "cancelled"
    status = api.get(f"/api/v1/jobs/{job_id}", headers=_auth(a_token())).json()
    assert status["details"]["error_code"] == "cancelled"
    second = api.delete(f"/api/v1/jobs/{job_id}", headers=_auth(a_token()))
    assert second.json()["outcome"] == "deleted"
    assert api.get(f"/api/v1/jobs/{job_id}", headers=_auth(a_token())).status_code == 404


def test_the_one_shot_upload_answers_in_the_old_shape(api: TestClient) -> None:
    response = api.post(
        "/api/v1/jobs/upload",
        headers=_auth(a_token()),
        files={"file": ("scan.pdf", b"%PDF-1.7\n" + b"%" * 100, "application/pdf")},
        data={"client_name": "acme", "report_id": "R-1"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["status"] == "queued"
    assert body["report_id"] == "R-1" and body["file_name"] == "scan.pdf"
    not_a_document = api.post(
        "/api/v1/jobs/upload",
        headers=_auth(a_token()),
        files={"file": ("x.pdf", b"hello", "application/pdf")},
    )
    assert not_a_document.status_code == 422


def test_a_body_over_the_limit_is_413(api: TestClient) -> None:
    response = api.post(
        "/api/v1/jobs", content=b"{" + b" " * 300_000 + b"}", headers=_auth(a_token())
    )
    assert response.status_code == 413
    assert response.json()["error_code"] == "request_too_large"


def test_the_docs_page_loads_its_spec_by_a_relative_url(api: TestClient) -> None:
    assert "url: 'openapi.json'" in api.get("/docs").text
    assert api.get("/openapi.json").json()["info"]["title"] == "Pagewise"


def test_access_logs_never_hold_the_token(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = a_token("logged-tenant")
    caplog.set_level(logging.INFO)
    _create(api, token)
    records = [vars(record) for record in caplog.records if record.name == "pagewise-api"]
    assert records and records[-1]["tenant"] == "logged-tenant"
    assert records[-1]["status"] == 201
    logged = json.dumps(records, default=str) + caplog.text
    assert token not in logged and token.split(".")[2] not in logged
    assert "x-amz-signature" not in logged.lower()


@pytest.mark.parametrize("path", ["/api/v1/jobs/upload", "/api/v1/jobs"])
def test_a_multipart_body_without_boundary_is_a_client_error(api: TestClient, path: str) -> None:
    response = api.post(
        path,
        headers={**_auth(a_token()), "Content-Type": "multipart/form-data"},
        content=b"--x\r\n",
    )
    assert 400 <= response.status_code < 500


def test_a_job_whose_upload_never_came_fails_as_expired(
    api: TestClient, db: Database[dict[str, Any]]
) -> None:
    from datetime import UTC, datetime, timedelta

    from bson import ObjectId

    job_id = _create(api, a_token()).json()["job_id"]
    fresh = api.get(f"/api/v1/jobs/{job_id}", headers=_auth(a_token())).json()
    assert fresh["details"]["processing_status"] == "awaiting_upload"
    # 15 minutes of upload link and 5 of grace, and then some.
    long_ago = datetime.now(UTC) - timedelta(minutes=21)
    db.original_files.update_one({"_id": ObjectId(job_id)}, {"$set": {"created_at": long_ago}})
    details = api.get(f"/api/v1/jobs/{job_id}", headers=_auth(a_token())).json()["details"]
    assert details["processing_status"] == "failed"
    assert details["error_code"] == "upload_expired"
    assert "15 minutes" in details["error_message"]
    listed = api.get("/api/v1/jobs", headers=_auth(a_token())).json()["jobs"]
    assert [job["status"] for job in listed if job["job_id"] == job_id] == ["failed"]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/pagewise",  # not https
        "https://169.254.169.254/latest/meta-data/",  # instance metadata
        "https://10.0.0.7/hook",
        "http://127.0.0.1:8080/hook",  # local callbacks are for the local stack only
        "https://user:pw@hooks.example.com/",
        # Would raise at delivery (and be retried ten times) if they were accepted here.
        "https://example.com/a\r\nX: 1",
        "https://" + "a" * 64 + ".example.com/hook",
        "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "https://[::127.0.0.1]/",  # IPv4-compatible loopback
    ],
)
def test_a_callback_url_pagewise_must_not_call_is_refused(api: TestClient, url: str) -> None:
    response = _create(api, a_token(), callback_url=url)
    assert response.status_code == 422
    assert "callback_url" in response.json()["message"]


def test_the_job_keeps_its_callback_url_and_the_tokens_email(
    api: TestClient, db: Database[dict[str, Any]]
) -> None:
    token = a_token(email="alice@example.com", email_verified=True)
    created = _create(api, token, callback_url="https://hooks.example.com/pagewise?x=1")
    assert created.status_code == 201
    stored = JobRepository(db).get(created.json()["job_id"])
    assert stored is not None
    assert stored.callback_url == "https://hooks.example.com/pagewise?x=1"
    assert stored.notify_email == "alice@example.com"
    # A token without a usable email claim: no email, and the job is still created.
    plain = _create(api, a_token(email="not an address"))
    assert JobRepository(db).get(plain.json()["job_id"]).notify_email is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("claims", "verified"),
    [
        ({"email_verified": True}, True),
        ({"email_verified": "true"}, True),  # some providers send the claim as a string
        ({"email_verified": False}, False),
        ({"email_verified": "false"}, False),
        ({}, False),  # no claim: not verified
    ],
)
def test_the_job_records_whether_the_tokens_email_is_verified(
    api: TestClient, db: Database[dict[str, Any]], claims: dict[str, Any], verified: bool
) -> None:
    created = _create(api, a_token(email="alice@example.com", **claims))
    assert created.status_code == 201
    stored = JobRepository(db).get(created.json()["job_id"])
    assert stored is not None
    assert stored.notify_email == "alice@example.com"
    assert stored.notify_email_verified is verified
    assert stored.email_recipient == ("alice@example.com" if verified else None)
