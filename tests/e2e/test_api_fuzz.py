"""Fuzz the deployed API from its own OpenAPI description (schemathesis), bounded.

Every operation gets generated requests, authenticated as a fuzzing tenant; no response may be
a 5xx or break the documented schema.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from pagewise_client.local import local_token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.stack import outputs, require_stack

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema():  # type: ignore[no-untyped-def]
    require_stack()
    spec = requests.get(f"{outputs()['ApiUrl']}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(spec)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {local_token('fuzz-tenant')}"}
    content_type = str((case.headers or {}).get("Content-Type") or case.media_type or "")
    if content_type.startswith("multipart/form-data") and "boundary=" not in content_type:
        # LocalStack's API Gateway (2026.3.0) fails on a multipart body without a boundary
        # before the request reaches the function ("Error in apigateway invocation: list
        # index out of range"); the app answers 4xx (tests/unit/api/test_api.py). Asserted,
        # so that a LocalStack that fixes it shows up here.
        response = case.call(base_url=outputs()["ApiUrl"], headers=headers, timeout=30)
        assert response.status_code < 500 or "apigateway invocation" in response.text
        return
    # The bar: no 5xx, and every response as documented. Left out on purpose:
    # schemathesis' checks on undeclared methods (API Gateway itself answers TRACE with 403,
    # before the app) and on unknown query parameters (ignored, as FastAPI does by design).
    case.call_and_validate(
        base_url=outputs()["ApiUrl"],
        headers=headers,
        timeout=30,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
