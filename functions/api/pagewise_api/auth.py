"""Bearer JWTs checked with PyJWT; the tenant is the token's subject."""

from __future__ import annotations

import jwt
from pagewise.settings import JwtSettings


class Unauthorized(Exception):
    """Any token problem. Deliberately carries no detail for the caller."""


class TokenVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        )

    def tenant(self, authorization: str | None) -> str:
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
        except (jwt.PyJWTError, ValueError) as error:
            raise Unauthorized from error
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthorized
        return subject
