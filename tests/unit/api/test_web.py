"""The web page at `/` in-process: relative URLs only, its assets, and the dev-token helper that
exists only when LOCAL_DEV_TOKENS is set."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from pagewise_api.main import create_app
from pymongo.database import Database

from tests.unit.builders import (
    AUDIENCE,
    ISSUER,
    SECRET,
    a_job_service,
    api_settings,
    hs256_settings,
)

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "functions" / "api" / "pagewise_api" / "web"
AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_api(db: Database[dict[str, Any]], aws: dict[str, str]) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def build(dev_tokens: str | None = None, jwt: dict[str, str] | None = None) -> TestClient:
        environment = {} if dev_tokens is None else {"LOCAL_DEV_TOKENS": dev_tokens}
        app = create_app(
            api_settings(aws, **environment),
            hs256_settings(**(jwt or {})),
            a_job_service(db, aws, upload_max_bytes=1000),
        )
        client = TestClient(app)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_inline_script = tag == "script" and "src" not in values

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts.append(data)


def test_root_serves_the_page_and_every_url_in_it_is_relative(make_api: AppFactory) -> None:
    api = make_api()
    response = api.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    parser = _Urls()
    parser.feed(response.text)
    assert set(parser.urls) == {"web/app.css", "web/app.js", "data:,"}
    # Behind API Gateway the app lives under a stage prefix: a URL starting with "/" (or a
    # scheme) would leave it. The assets answer at the relative paths, with their own types.
    for url in parser.urls:
        assert not url.startswith(("/", "http:", "https:")), url
    css = api.get("/web/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    script = api.get("/web/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    # The script's API calls are relative too (`api/v1/...`, never `/api/v1/...`).
    assert re.findall(r"""["'`]api/v1/""", script.text)
    assert not re.findall(r"""["'`]/(api|web)/""", script.text)
    assert not re.findall(r"""["'`]/(api|web)/""", css.text)


def test_the_page_is_locked_down_by_its_content_security_policy(make_api: AppFactory) -> None:
    response = make_api().get("/")
    policy = response.headers["content-security-policy"]
    parser = _Urls()
    parser.feed(response.text)
    assert len(parser.inline_scripts) == 1  # the trailing-slash fix, allowed by its hash
    digest = hashlib.sha256(parser.inline_scripts[0].encode()).digest()
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in policy
    assert "script-src 'self' 'sha256-" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_assets_are_revalidated_by_etag_and_unknown_ones_are_404(make_api: AppFactory) -> None:
    api = make_api()
    first = api.get("/web/app.js")
    assert first.headers["cache-control"] == "no-cache"
    again = api.get("/web/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert first.content == (WEB / "app.js").read_bytes()
    for path in ("/web/nope.js", "/web/..%2Fwebpage.py", "/web/index.html"):
        missing = api.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["error_code"] == "not_found"


def test_the_dev_token_helper_is_absent_unless_enabled(make_api: AppFactory) -> None:
    for setting in (None, "0", "false"):
        api = make_api(dev_tokens=setting)
        assert api.get("/web/config.json").json() == {"dev_tokens": False}
        response = api.post("/api/v1/dev/tokens", json={"subject": "alice"})
        assert response.status_code == 404, setting
        assert response.json()["error_code"] == "not_found"
        assert api.get("/api/v1/dev/tokens").status_code == 404
        assert "/api/v1/dev/tokens" not in api.get("/openapi.json").json()["paths"]


def test_when_enabled_the_helper_mints_a_token_the_api_accepts(make_api: AppFactory) -> None:
    api = make_api(dev_tokens="1")
    assert api.get("/web/config.json").json() == {"dev_tokens": True}
    minted = api.post("/api/v1/dev/tokens", json={"subject": "dev-alice"})
    assert minted.status_code == 201
    body = minted.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "dev-alice" and claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == 3600
    jobs = api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {body['token']}"})
    assert jobs.status_code == 200 and jobs.json()["jobs"] == []
    # Still not part of the documented API, even where it exists.
    assert "/api/v1/dev/tokens" not in api.get("/openapi.json").json()["paths"]
    for subject in ("", "a b", "x" * 65, "<script>"):
        refused = api.post("/api/v1/dev/tokens", json={"subject": subject})
        assert refused.status_code == 422, subject


def test_dev_tokens_need_a_shared_secret(make_api: AppFactory) -> None:
    with pytest.raises(ValueError, match="LOCAL_DEV_TOKENS"):
        make_api(
            dev_tokens="1",
            jwt={
                "JWT_ALGORITHMS": "RS256",
                "JWT_SECRET": "",
                "JWT_JWKS_URL": "https://issuer.test/.well-known/jwks.json",
            },
        )


def test_the_template_enables_dev_tokens_on_the_local_stack_only() -> None:
    template = (ROOT / "template.yaml").read_text()
    lines = [line.strip() for line in template.splitlines() if "LOCAL_DEV_TOKENS" in line]
    assert [line for line in lines if not line.startswith("#")] == [
        'LOCAL_DEV_TOKENS: !If [IsLocal, "1", !Ref AWS::NoValue]'
    ]
