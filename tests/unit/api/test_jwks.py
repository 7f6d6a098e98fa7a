"""RS256/ES256 tokens checked against a JWKS served over HTTP by the test (as Cognito, Auth0 or
Okta would serve it), through the real PyJWKClient."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pagewise.settings import JwtSettings
from pagewise_api.auth import (
    JWKS_CACHE_SECONDS,
    JWKS_REFETCH_COOLDOWN_SECONDS,
    AuthUnavailable,
    TokenVerifier,
    Unauthorized,
)
from pydantic import ValidationError

from tests.unit.builders import AUDIENCE, ISSUER, a_token

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
INTRUDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@dataclass
class JwksServer:
    keys: list[dict[str, Any]]
    requests: int = 0
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    state = JwksServer(
        keys=[
            _public_jwk(RSA_KEY.public_key(), "rsa-1", "RS256"),
            _public_jwk(EC_KEY.public_key(), "ec-1", "ES256"),
        ]
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _verifier(jwks_url: str, algorithms: str = "RS256,ES256") -> TokenVerifier:
    return TokenVerifier(
        JwtSettings.model_validate(
            {
                "JWT_ALGORITHMS": algorithms,
                "JWT_JWKS_URL": jwks_url,
                "JWT_ISSUER": ISSUER,
                "JWT_AUDIENCE": AUDIENCE,
            }
        )
    )


def _pem(key: Any) -> str:
    return str(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    )


def _signed(key: Any, algorithm: str, kid: str, **claims: Any) -> str:
    token = a_token(secret=_pem(key), algorithm=algorithm, **claims)
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(payload, _pem(key), algorithm=algorithm, headers={**header, "kid": kid})


def _bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize(
    ("key", "algorithm", "kid"), [(RSA_KEY, "RS256", "rsa-1"), (EC_KEY, "ES256", "ec-1")]
)
def test_a_token_signed_by_a_published_key_names_its_tenant(
    jwks: JwksServer, key: Any, algorithm: str, kid: str
) -> None:
    verifier = _verifier(jwks.url)
    assert verifier.tenant(_bearer(_signed(key, algorithm, kid, subject="carol"))) == "carol"


def test_the_key_set_is_fetched_once_and_cached(jwks: JwksServer) -> None:
    verifier = _verifier(jwks.url)
    for subject in ("a", "b", "c"):
        assert verifier.tenant(_bearer(_signed(RSA_KEY, "RS256", "rsa-1", subject=subject)))
    assert verifier.tenant(_bearer(_signed(EC_KEY, "ES256", "ec-1")))
    assert jwks.requests == 1


def _hs256_with_public_key_as_secret() -> str:
    # The classic confusion attack: the RSA *public* key, which anyone can fetch, used as an
    # HMAC secret. PyJWT refuses PEM keys as HMAC secrets when encoding, so sign by hand.
    import base64
    import hashlib
    import hmac

    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    claims = {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": 9_999_999_999}
    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}) + b"." + part(claims)
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


BAD_TOKENS = {
    "signed by an unpublished key under a published kid": lambda: _signed(
        INTRUDER_KEY, "RS256", "rsa-1"
    ),
    "unknown kid": lambda: _signed(INTRUDER_KEY, "RS256", "rotated-away"),
    "HS256 signed with the public key": _hs256_with_public_key_as_secret,
    "expired": lambda: _signed(RSA_KEY, "RS256", "rsa-1", exp=1_000_000),
    "wrong issuer": lambda: _signed(RSA_KEY, "RS256", "rsa-1", iss="https://evil.test/"),
    "wrong audience": lambda: _signed(RSA_KEY, "RS256", "rsa-1", aud="other"),
    "no subject": lambda: _signed(RSA_KEY, "RS256", "rsa-1", subject=None),
    "alg none": lambda: jwt.encode(
        {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": 9_999_999_999},
        None,
        algorithm="none",
        headers={"kid": "rsa-1"},
    ),
    "HS256 with a guessable secret": lambda: a_token(secret="x" * 40),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_refused(jwks: JwksServer, case: str) -> None:
    with pytest.raises(Unauthorized):
        _verifier(jwks.url).tenant(_bearer(BAD_TOKENS[case]()))


def test_a_key_set_out_of_reach_is_not_the_callers_fault(jwks: JwksServer) -> None:
    url = jwks.url
    assert jwks.server is not None
    jwks.server.shutdown()
    jwks.server.server_close()
    with pytest.raises(AuthUnavailable):
        _verifier(url).tenant(_bearer(_signed(RSA_KEY, "RS256", "rsa-1")))


@pytest.mark.parametrize(
    "settings",
    [
        {"JWT_ALGORITHMS": "HS256,RS256", "JWT_SECRET": "s" * 32, "JWT_JWKS_URL": "http://x/"},
        {"JWT_ALGORITHMS": "RS256"},
        {"JWT_ALGORITHMS": "HS256"},
        {"JWT_ALGORITHMS": "none", "JWT_SECRET": "s" * 32},
    ],
)
def test_configurations_that_invite_confusion_are_refused(settings: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        JwtSettings.model_validate({**settings, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE})


class FakeClock:
    """PyJWT's own clock (``time.monotonic`` in its JWKS modules), moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:  # PyJWT's modules may read the wall clock too
        return time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in (jwt.jwks_client, jwt.jwk_set_cache, jwt.api_jwk):
        monkeypatch.setattr(module, "time", fake)
    return fake


def test_a_key_removed_from_the_key_set_is_refused_once_the_set_expires(
    jwks: JwksServer, clock: FakeClock
) -> None:
    verifier = _verifier(jwks.url)
    token = _bearer(_signed(RSA_KEY, "RS256", "rsa-1", subject="carol"))
    assert verifier.tenant(token) == "carol"
    jwks.keys = [key for key in jwks.keys if key["kid"] != "rsa-1"]  # revoked at the provider
    clock.advance(JWKS_CACHE_SECONDS + 1)
    with pytest.raises(Unauthorized):
        verifier.tenant(token)
    assert jwks.requests >= 2  # the set was fetched again, and no longer holds the key
    # The keys still published keep working from the fresh set.
    assert verifier.tenant(_bearer(_signed(EC_KEY, "ES256", "ec-1", subject="dan"))) == "dan"


def test_an_unknown_kid_refetches_the_set_at_most_once_per_cooldown(
    jwks: JwksServer, clock: FakeClock
) -> None:
    verifier = _verifier(jwks.url)
    assert verifier.tenant(_bearer(_signed(RSA_KEY, "RS256", "rsa-1")))
    assert jwks.requests == 1
    # A flood of made-up kids costs the identity provider nothing while the cooldown runs.
    for n in range(5):
        with pytest.raises(Unauthorized):
            verifier.tenant(_bearer(_signed(INTRUDER_KEY, "RS256", f"made-up-{n}")))
    assert jwks.requests == 1
    # A key rotated in is found by one refetch once the cooldown has passed.
    jwks.keys = [*jwks.keys, _public_jwk(INTRUDER_KEY.public_key(), "rsa-2", "RS256")]
    clock.advance(JWKS_REFETCH_COOLDOWN_SECONDS + 1)
    assert verifier.tenant(_bearer(_signed(INTRUDER_KEY, "RS256", "rsa-2", subject="eve")))
    assert jwks.requests == 2
    for n in range(5):
        with pytest.raises(Unauthorized):
            verifier.tenant(_bearer(_signed(INTRUDER_KEY, "RS256", f"again-{n}")))
    assert jwks.requests == 2
