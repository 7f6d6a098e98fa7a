"""The web page: `/` (one HTML page), its stylesheet and script, and the local dev-token helper.

No build step: the files in `web/` are served as they are. Every URL in them is relative, since
behind API Gateway the app lives under `/{stage}` (AWS) or `/_aws/execute-api/{api}/{stage}`
(LocalStack), a prefix the app never sees.

The dev-token helper (`POST /api/v1/dev/tokens`) exists only when `LOCAL_DEV_TOKENS` is set,
which template.yaml does on the local stack only: an API in AWS never mints tokens.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from fastapi import APIRouter, HTTPException, Request, Response
from pagewise.settings import ApiSettings, JwtSettings
from pydantic import BaseModel, Field

WEB_DIR = Path(__file__).with_name("web")
DEV_TOKEN_LIFETIME_SECONDS = 3600
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
# The page's only inline script: it adds the trailing slash to `.../{stage}` so that the
# relative URLs resolve under the stage. Allowed by its hash in the Content-Security-Policy.
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


@dataclass(frozen=True)
class _File:
    body: bytes
    media_type: str
    etag: str


def _load(name: str) -> _File:
    body = (WEB_DIR / name).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:20]
    return _File(body, _MEDIA_TYPES[Path(name).suffix], f'"{digest}"')


def _content_security_policy(page: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            "style-src 'self'",
            # The page previews are presigned S3 GETs: https in AWS, the same origin locally.
            "img-src 'self' data: https:",
            # The upload goes straight to S3: https in AWS; the local stack's S3 is the same
            # origin as its API Gateway (http://127.0.0.1:4566).
            "connect-src 'self' https:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


class WebConfig(BaseModel):
    dev_tokens: bool


class DevTokenBody(BaseModel):
    subject: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")


class DevTokenResponse(BaseModel):
    token: str
    token_type: str
    subject: str
    expires_in: int


def _serve(request: Request, file: _File, extra_headers: dict[str, str] | None = None) -> Response:
    headers = {
        "ETag": file.etag,
        # Revalidated on every load (a 304 when unchanged): a deploy shows at once.
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        **(extra_headers or {}),
    }
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)


def web_router(settings: ApiSettings, jwt_settings: JwtSettings) -> APIRouter:
    """The page's routes; the dev-token route only when the settings enable it."""
    page = _load("index.html")
    assets = {name: _load(name) for name in ("app.css", "app.js")}
    page_headers = {
        "Content-Security-Policy": _content_security_policy(page.body),
        "Referrer-Policy": "no-referrer",
    }
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def index(request: Request) -> Response:
        return _serve(request, page, page_headers)

    @router.get("/web/config.json")
    def config() -> WebConfig:
        return WebConfig(dev_tokens=settings.local_dev_tokens)

    @router.get("/web/{name}")
    def asset(name: str, request: Request) -> Response:
        file = assets.get(name)
        if file is None:
            raise HTTPException(status_code=404, detail="Not Found")
        return _serve(request, file)

    if settings.local_dev_tokens:
        algorithm = next(
            (item for item in jwt_settings.algorithms if item.upper().startswith("HS")), None
        )
        if algorithm is None or not jwt_settings.secret:
            raise ValueError("LOCAL_DEV_TOKENS needs an HS* algorithm and JWT_SECRET")
        secret = jwt_settings.secret

        @router.post("/api/v1/dev/tokens", status_code=201)
        def dev_token(body: DevTokenBody) -> DevTokenResponse:
            now = int(time.time())
            claims = {
                "sub": body.subject,
                "iss": jwt_settings.issuer,
                "aud": jwt_settings.audience,
                "iat": now,
                "exp": now + DEV_TOKEN_LIFETIME_SECONDS,
            }
            return DevTokenResponse(
                token=jwt.encode(claims, secret, algorithm=algorithm),
                token_type="Bearer",
                subject=body.subject,
                expires_in=DEV_TOKEN_LIFETIME_SECONDS,
            )

    return router
