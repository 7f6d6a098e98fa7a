"""The LocalStack hook that makes Step Functions parse each JSONPath expression once
(localstack/host_executor/src/pagewise_host_executor/stepfunctions_jsonpath.py).

It runs in LocalStack's own interpreter (.venvs/localstack, made by `make setup`), so the
checks run there, in a subprocess: the hook is registered under LocalStack's
``on_infra_start`` hooks, a second parse of the same text is the same object (before the
hook it is a new parse every time), and what Step Functions computes with the cached
expressions (extract_json, ResultPath) is what it computed before.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LOCALSTACK_PYTHON = ROOT / ".venvs" / "localstack" / "bin" / "python"

CHECK = """
import copy
from localstack.runtime import hooks
from localstack.services.stepfunctions.asl.component.common.path import result_path
from localstack.services.stepfunctions.asl.utils import json_path
from pagewise_host_executor import stepfunctions_jsonpath

names = [p.name for p in hooks.on_infra_start.manager.list_plugin_specs()]
assert "cache_stepfunctions_jsonpath_parses" in names, names

data = {"job": {"pages": [{"n": 1}, {"n": 2}], "id": "j1"}, "list": [7]}
paths = ["$.job.id", "$.job.pages", "$.job.pages[*].n", "$.list[0]", "$"]
before = [copy.deepcopy(json_path.extract_json(p, data)) for p in paths]
assert json_path.parse("$.job.id") is not json_path.parse("$.job.id")
update = result_path.parse("$.result.ocr").update_or_create({"a": 1}, {"b": 2})

stepfunctions_jsonpath.cache_parses()
stepfunctions_jsonpath.cache_parses()  # twice: still one cache, not a cache of a cache

assert json_path.parse("$.job.id") is json_path.parse("$.job.id")
assert result_path.parse("$.result.ocr") is result_path.parse("$.result.ocr")
assert json_path.parse.__wrapped__.__module__ == "jsonpath_ng.ext.parser"
for _ in range(2):  # the second round reuses the parsed expressions
    assert [json_path.extract_json(p, data) for p in paths] == before
    assert result_path.parse("$.result.ocr").update_or_create({"a": 1}, {"b": 2}) == update
assert update == {"a": 1, "result": {"ocr": {"b": 2}}}, update
print("ok")
"""


def test_step_functions_parses_each_jsonpath_once_with_the_same_results() -> None:
    assert LOCALSTACK_PYTHON.exists(), "LocalStack's interpreter is missing: run `make setup`"
    done = subprocess.run(
        [str(LOCALSTACK_PYTHON), "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
