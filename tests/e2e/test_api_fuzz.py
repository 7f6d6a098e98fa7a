"""Fuzz the deployed API from its own OpenAPI description (schemathesis), bounded.

Every operation gets generated requests, authenticated as a fuzzing tenant; no response may be
a 5xx or break the documented schema.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.stack import outputs, require_stack, tenant_token

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
    headers = {"Authorization": f"Bearer {tenant_token('fuzz-tenant')}"}
    declared = (case.headers or {}).get("Content-Type", "")
    if declared.startswith("multipart/form-data") and "boundary=" not in declared:
        # A multipart type without its boundary never reaches the app on LocalStack 2026.3.0
        # (its API Gateway fails first: "list index out of range"); the app's own answer to
        # it, a 4xx, is tests/unit/api/test_api.py's. Here requests writes the header with
        # the boundary of the body it encodes, and the response is checked like any other.
        del case.headers["Content-Type"]
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
