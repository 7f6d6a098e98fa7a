"""Markers by folder: tests/integration and tests/e2e need the deployed local stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module", autouse=True)
def _stack_tenants_cleaned_up(request: pytest.FixtureRequest) -> Iterator[None]:
    """A stack test module leaves nothing behind: once its last test (and its module-scoped
    fixtures) end, every tenant it signed a token for (tests.stack.tenant_token) loses its
    jobs and objects."""
    yield
    path = str(request.path)
    if "/tests/integration/" in path or "/tests/e2e/" in path:
        from tests.stack import clean_up_tenants

        clean_up_tenants()
