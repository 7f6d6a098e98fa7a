"""template.yaml passes cfn-lint and `sam validate --lint`, and the state machine is whole."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venvs" / "sam" / "bin" / "sam"
ASL = ROOT / "statemachine" / "pipeline.asl.json"


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not SAM.exists() and shutil.which("sam") is None, reason="no SAM CLI")
def test_sam_validate_lint_passes() -> None:
    sam = str(SAM) if SAM.exists() else "sam"
    result = subprocess.run(
        [sam, "validate", "--lint", "--region", "us-east-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SAM_CLI_TELEMETRY": "0", "HOME": str(ROOT / ".pagewise")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def _definition(**numbers: int) -> dict[str, Any]:
    """The ASL as Step Functions gets it: the numeric substitutions (unquoted in the file) set
    to ``numbers``, the string ones (ARNs) left as their names."""
    text = ASL.read_text()
    for name, value in numbers.items():
        text = text.replace("${" + name + "}", str(value))
    definition: dict[str, Any] = json.loads(re.sub(r"\$\{(\w+)\}", r"\1", text))
    return definition


def test_state_machine_runs_the_pipeline_in_order_and_catches_failures() -> None:
    definition = _definition(OcrPageConcurrency=2, TranslatePageConcurrency=3)
    states = definition["States"]
    order, name = [], definition["StartAt"]
    while name in states:
        order.append(name)
        name = states[name].get("Next")
    assert order == [
        "Prepare",
        "OcrPages",
        "PlanTranslation",
        "TranslatePages",
        "Summarise",
        "Render",
        "Finish",
    ]
    # The plan (page breaks, cost estimate, max_cost) runs in the function with the LLM
    # settings, once, before any page is translated.
    plan = states["PlanTranslation"]["Parameters"]
    assert plan["FunctionName"] == "TranslatePageFunctionArn"
    assert plan["Payload"]["plan"] is True
    for state in order:
        catches = states[state]["Catch"]
        assert any(c["Next"] == "MarkFailed" and "States.ALL" in c["ErrorEquals"] for c in catches)
        assert states[state].get("Retry") or states[state]["Type"] == "Map"
    assert states["OcrPages"]["ItemProcessor"]["States"]["OcrPage"]["Retry"]
    assert states["OcrPages"]["MaxConcurrency"] == 2
    assert states["TranslatePages"]["MaxConcurrency"] == 3
    translate = states["TranslatePages"]["ItemProcessor"]["States"]["TranslatePage"]
    assert {"LlmThrottled", "LlmUnavailable"} <= set(translate["Retry"][0]["ErrorEquals"])


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])
        elif state["Type"] == "Task" and "Retry" in state:
            yield name, state


def test_every_step_outlasts_a_mongodb_restart() -> None:
    # A failover or restart takes seconds to tens of seconds: each step keeps retrying for
    # about a minute (full jitter), not the few seconds a Lambda hiccup needs.
    states = _definition(OcrPageConcurrency=2, TranslatePageConcurrency=2)["States"]
    for name, state in _tasks(states):
        # The first retrier that matches (Step Functions tries them in order).
        retrier = next(
            r
            for r in state["Retry"]
            if "AutoReconnect" in r["ErrorEquals"] or "States.ALL" in r["ErrorEquals"]
        )
        if "States.ALL" not in retrier["ErrorEquals"]:
            assert {"ServerSelectionTimeoutError", "NetworkTimeout"} <= set(retrier["ErrorEquals"])
        interval, rate = retrier["IntervalSeconds"], retrier["BackoffRate"]
        cap = retrier.get("MaxDelaySeconds", 3600)
        window = sum(min(interval * rate**n, cap) for n in range(retrier["MaxAttempts"]))
        assert window >= 60, (name, window)


def test_every_substitution_is_declared_in_the_template() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    template = (ROOT / "template.yaml").read_text()
    section = template.split("DefinitionSubstitutions:")[1].split("Tracing:")[0]
    declared = set(re.findall(r"^\s+(\w+):", section, flags=re.MULTILINE))
    assert used == declared


def test_every_function_that_can_end_a_job_may_queue_its_notification() -> None:
    from cfnlint.decode import cfn_yaml

    resources = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    functions = {
        name: spec["Properties"]
        for name, spec in resources.items()
        if spec["Type"] == "AWS::Serverless::Function" and name not in ("BenchHelloFunction",)
    }
    for name, properties in functions.items():
        if name == "NotifyFunction":
            continue
        policies = [next(iter(p)) for p in properties.get("Policies", []) if isinstance(p, dict)]
        assert "SQSSendMessagePolicy" in policies, name
    notify = functions["NotifyFunction"]["Events"]["Notifications"]["Properties"]
    assert notify["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["NotificationsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 3
