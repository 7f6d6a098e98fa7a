"""scripts/aws_limits.py: each AWS-limit check passes as shipped and fails when its limit is
broken on purpose (Inline page Maps, MAX_PAGES raised, a larger /result slice or page text)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aws_limits", ROOT / "scripts" / "aws_limits.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["aws_limits"] = module
    spec.loader.exec_module(module)
    return module


limits = _load()
MEASURED = json.loads((ROOT / "scripts" / "history_events.json").read_text())


def _checks(**overrides: Any) -> dict[str, Any]:
    from pagewise.logic.results import MAX_PAGE_TEXT_CHARS, MAX_RESULT_PAGE_SIZE

    arguments: dict[str, Any] = {
        "max_pages": limits.template_max_pages(),
        "page_size": MAX_RESULT_PAGE_SIZE,
        "text_chars": MAX_PAGE_TEXT_CHARS,
        "asl": limits.load_asl(),
        "measured": MEASURED,
    }
    arguments.update(overrides)
    return {check.name.split(" (")[0]: check for check in limits.run_checks(**arguments)}


def _failed(checks: dict[str, Any]) -> list[str]:
    return [name for name, check in checks.items() if not check.ok]


def test_every_check_passes_as_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert limits.main([]) == 0
    out = capsys.readouterr().out
    assert "history of a 500-page job" in out and "/result response" in out
    assert out.count("[ok  ]") == 8 and "FAIL" not in out


def test_inline_page_maps_overflow_the_history_at_max_pages() -> None:
    asl = limits.load_asl(processor_config='{"Mode": "INLINE"}')
    checks = _checks(asl=asl, measured={**MEASURED, **MEASURED["inline_maps_before"]})
    assert _failed(checks) == ["Step Functions history of a 500-page job, every retry spent"]
    budget = limits.history_budget(asl, MEASURED["inline_maps_before"], 500)
    # 7 + 7 events a page measured; every retry (TooManyRequestsException's and
    # LlmQuotaExceeded's included) and the failure path: 187 a page.
    assert budget.inline_per_page_worst == 187
    assert budget.largest_document_pages == 131  # PlanTranslation adds to the fixed part


def test_more_retries_make_the_inline_budget_thinner() -> None:
    asl = limits.load_asl(processor_config='{"Mode": "INLINE"}')
    before = limits.history_budget(asl, MEASURED["inline_maps_before"], 100)
    asl["States"]["TranslatePages"]["ItemProcessor"]["States"]["TranslatePage"]["Retry"][0][
        "MaxAttempts"
    ] = 50
    after = limits.history_budget(asl, MEASURED["inline_maps_before"], 100)
    assert after.parent_worst == before.parent_worst + 45 * 3 * 100


def test_max_pages_raised_overflows_the_state_data() -> None:
    failed = _failed(_checks(max_pages=20_000))
    assert "Step Functions state data with 20000 page pointers" in failed


def test_a_larger_result_slice_overflows_the_lambda_response() -> None:
    assert not _failed(_checks())
    failed = _failed(_checks(result_budget=20_000_000))
    assert failed == ["largest /result response"]


def test_longer_page_texts_overflow_the_response_and_the_page_document() -> None:
    failed = _failed(_checks(text_chars=2_000_000))
    assert "largest /result response" in failed
    assert "largest page_results document at 500 pages" in failed
