"""Bearer JWTs checked with PyJWT; the tenant is the token's subject."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from pagewise.logic.notifications import EmailClaim, email_claim
from pagewise.settings import JwtSettings

# PyJWKClient keeps the key set this long before fetching it again, and every key with it: a
# key the provider removed (revoked) is refused at most this long after. There is no per-key
# cache (`cache_keys`), whose LRU never expires and would keep a removed key trusted for as
# long as the container lives. An unknown `kid` (a key rotated in) refetches the set at once,
# but at most once per cooldown, so made-up kids cannot turn into a flood of fetches.
JWKS_CACHE_SECONDS = 300
JWKS_REFETCH_COOLDOWN_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5


class Unauthorized(Exception):
    """Any token problem. Deliberately carries no detail for the caller."""


class AuthUnavailable(Exception):
    """The identity provider's key set could not be fetched: our problem, not the caller's."""


@dataclass(frozen=True)
class Caller:
    tenant: str  # the token's subject
    # Its `email` claim, when it holds one address, and whether `email_verified` says so:
    # where notifications go (a verified address only).
    email: EmailClaim | None


class TokenVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings
        # Settings guarantee one key family: HS* with the secret, or public keys from the JWKS.
        self._symmetric = settings.algorithms[0].upper().startswith("HS")
        self._jwks = (
            jwt.PyJWKClient(
                settings.jwks_url,
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=JWKS_CACHE_SECONDS,
                cooldown_duration=JWKS_REFETCH_COOLDOWN_SECONDS,
                timeout=JWKS_TIMEOUT_SECONDS,
            )
            if settings.jwks_url and not self._symmetric
            else None
        )

    def tenant(self, authorization: str | None) -> str:
        return self.caller(authorization).tenant

    def caller(self, authorization: str | None) -> Caller:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized
        token = token.strip()
        try:
            key: object
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            else:
                key = self._settings.secret or ""
            claims = jwt.decode(
                token,
                key=key,  # type: ignore[arg-type]
                # Only the configured algorithms, never the one the token names.
                algorithms=self._settings.algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise AuthUnavailable from error
        except (jwt.PyJWTError, ValueError) as error:
            raise Unauthorized from error
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthorized
        return Caller(tenant=subject, email=email_claim(claims))
