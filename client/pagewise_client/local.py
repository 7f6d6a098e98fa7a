"""The local stack's token settings (see docs/api.md, "Local tokens") and its stack outputs."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import jwt

# Match samconfig.toml [localstack.deploy.parameters]; for the local stack only.
LOCAL_JWT_SECRET = "pagewise-local-development-secret-not-for-production"
LOCAL_JWT_ISSUER = "https://pagewise.local/"
LOCAL_JWT_AUDIENCE = "pagewise-api"
# Webhooks on the local stack are signed with this (samconfig.toml WebhookSigningSecret), and
# emails come from this sender.
LOCAL_WEBHOOK_SECRET = "pagewise-local-webhook-secret-not-for-production"
LOCAL_NOTIFY_FROM = "notifications@pagewise.local"
ROOT = Path(__file__).resolve().parents[2]


def local_token(subject: str, lifetime_seconds: int = 3600, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "sub": subject,
        "iss": LOCAL_JWT_ISSUER,
        "aud": LOCAL_JWT_AUDIENCE,
        "iat": now,
        "exp": now + lifetime_seconds,
        **claims,
    }
    return jwt.encode(payload, LOCAL_JWT_SECRET, algorithm="HS256")


def stack_outputs() -> dict[str, str]:
    result = subprocess.run(
        ["bash", str(ROOT / "localstack" / "stack.sh"), "outputs"],
        check=True,
        capture_output=True,
        text=True,
    )
    outputs: dict[str, str] = json.loads(result.stdout)
    return outputs
