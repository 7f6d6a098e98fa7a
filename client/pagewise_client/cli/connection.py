"""Which API, which token: flags, the environment, or the local stack; and one API call
with every way it can fail turned into a :class:`CliError` with its exit code."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests

from pagewise_client.api import ApiError, PagewiseClient
from pagewise_client.cli.errors import EXIT_API, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_USAGE, CliError
from pagewise_client.cli.formatting import say
from pagewise_client.local import local_token, stack_outputs

DEFAULT_TENANT = "demo"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Connection:
    client: PagewiseClient
    tenant: str | None  # the token's subject, for messages


def _is_local(api_url: str) -> bool:
    host = urlsplit(api_url).hostname or ""
    return host in LOCAL_HOSTS or host.endswith(".localhost.localstack.cloud")


def _subject(token: str) -> str | None:
    """The token's `sub`, read without checking the signature (the API checks it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return str(subject) if subject else None


def _why(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        lines = [line for line in str(error.stderr or "").splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()[:200]
    return f"{type(error).__name__}: {error}"[:200]


def connect(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Connection:
    env = os.environ if environ is None else environ
    api_url = getattr(args, "api_url", None) or env.get("PAGEWISE_API_URL")
    from_stack = False
    if not api_url:
        try:
            api_url = stack_outputs()["ApiUrl"]
        except (OSError, subprocess.CalledProcessError, KeyError, ValueError) as error:
            raise CliError(
                EXIT_USAGE,
                "no API URL: pass --api-url or set PAGEWISE_API_URL; the local stack's "
                f"outputs are not available ({_why(error)}): is it running? `make up`",
            ) from error
        from_stack = True
    api_url = api_url.rstrip("/")
    if urlsplit(api_url).scheme not in ("http", "https") or not urlsplit(api_url).hostname:
        raise CliError(EXIT_USAGE, f"the API URL {api_url!r} is not an http(s) URL")
    token = getattr(args, "token", None) or env.get("PAGEWISE_TOKEN")
    if token:
        if getattr(args, "tenant", None):
            say("pagewise: --tenant is ignored: the token's subject is the tenant")
        return Connection(PagewiseClient(api_url, token), _subject(token))
    if not (from_stack or _is_local(api_url)):
        raise CliError(EXIT_AUTH, "no token: pass --token or set PAGEWISE_TOKEN")
    # The local stack: sign a token as its settings say (docs/api.md, "Local tokens").
    tenant = getattr(args, "tenant", None) or env.get("PAGEWISE_TENANT") or DEFAULT_TENANT
    return Connection(PagewiseClient(api_url, local_token(tenant)), tenant)


def parse_error_body(body: str) -> tuple[str | None, str]:
    """(error_code, message) of an API error body, or of S3's XML, or the text itself."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = parsed.get("message") or parsed.get("detail") or parsed.get("Message") or body
        return parsed.get("error_code"), str(text)
    code = re.search(r"<Code>([^<]*)</Code>", body)
    message = re.search(r"<Message>([^<]*)</Message>", body)
    if code or message:
        return (code.group(1) if code else None), (message.group(1) if message else body)
    return None, " ".join(body.split())[:300] or "(no body)"


def _api_error(error: ApiError, job_id: str | None, tenant: str | None) -> CliError:
    code, message = parse_error_body(error.body)
    status = error.status
    if status == 401:
        return CliError(
            EXIT_AUTH,
            "the API refused the token (401): check --token or PAGEWISE_TOKEN "
            "(expired? wrong issuer, audience or key?)",
        )
    if status == 403:
        return CliError(EXIT_AUTH, f"the API refused the request (403): {message}")
    if status == 404:
        if job_id is not None:
            whose = f" for tenant {tenant!r}" if tenant else ""
            return CliError(EXIT_NOT_FOUND, f"job {job_id} not found{whose}")
        return CliError(EXIT_NOT_FOUND, f"not found (404): {message}")
    if status in (400, 413, 422):
        label = f"{code}: " if code else ""
        return CliError(EXIT_USAGE, f"the API refused the request ({status}): {label}{message}")
    return CliError(EXIT_API, f"the API answered HTTP {status}: {message}")


def call[T](
    connection: Connection, action: Callable[[], T], job_id: str | None = None, what: str = ""
) -> T:
    """Run one API call, turning every way it can fail into a CliError with its exit code."""
    try:
        return action()
    except ApiError as error:
        raise _api_error(error, job_id, connection.tenant) from error
    except requests.Timeout as error:
        raise CliError(
            EXIT_API, f"the API at {connection.client.base_url} did not answer in time"
        ) from error
    except requests.ConnectionError as error:
        raise CliError(
            EXIT_API, f"cannot reach the API at {connection.client.base_url}{what}"
        ) from error
    except requests.RequestException as error:
        raise CliError(EXIT_API, f"request failed: {error}") from error
    except (ValueError, KeyError) as error:  # an answer that is not the JSON expected
        raise CliError(EXIT_API, f"unexpected answer from the API ({error})") from error
