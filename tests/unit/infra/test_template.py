"""template.yaml passes cfn-lint and `sam validate --lint` with its optional parameters set
and unset, the state machine is whole, and the template's operations and security settings
(docs/deploying-to-aws.md, docs/template-security.md) stay wired to what the code does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAM = ROOT / ".venvs" / "sam" / "bin" / "sam"
SAM_PYTHON = ROOT / ".venvs" / "sam" / "bin" / "python"
ASL = ROOT / "statemachine" / "pipeline.asl.json"
SECURITY_DOC = ROOT / "docs" / "template-security.md"

# The optional parameters set: in a VPC with endpoints, DocumentDB's CA bundle, retention, a
# customer KMS key, bucket access logs, no reserved concurrency, the account's own API role.
PARAMETERS_SET: dict[str, Any] = {
    "VpcSubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "VpcSecurityGroupIds": "sg-0123456789abcdef0",
    "CreateVpcEndpoints": "true",
    "VpcId": "vpc-0123456789abcdef0",
    "VpcRouteTableIds": "rtb-0123456789abcdef0",
    "MongoDbCaBundleS3Uri": "s3://pagewise-config/global-bundle.pem",
    "RetentionDays": 30,
    "LogRetentionDays": 90,
    "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "AccessLogBucketName": "pagewise-access-logs",
    "ManageApiGatewayAccount": "false",
    "ApiReservedConcurrency": "",
    "OcrPageReservedConcurrency": "",
    "TranslatePageReservedConcurrency": "",
    "StepReservedConcurrency": "",
}
PARAMETER_SETS = {"unset": {}, "set": PARAMETERS_SET}


def _load_template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return template


@pytest.fixture(params=sorted(PARAMETER_SETS))
def template_variant(request: pytest.FixtureRequest) -> Iterator[Path]:
    """template.yaml, or a copy (JSON, beside it for the relative code paths) whose optional
    parameters default to the values of PARAMETERS_SET."""
    defaults = PARAMETER_SETS[request.param]
    if not defaults:
        yield ROOT / "template.yaml"
        return
    template = _load_template()
    for name, value in defaults.items():
        template["Parameters"][name]["Default"] = value
    copy = ROOT / f".template-{request.param}-{uuid.uuid4().hex[:8]}.json"
    copy.write_text(json.dumps(template))
    try:
        yield copy
    finally:
        copy.unlink()


def test_cfn_lint_passes(template_variant: Path) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(template_variant)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes(template_variant: Path) -> None:
    assert SAM.exists(), "the SAM CLI is not installed: run `make setup`"
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--region", "us-east-1", "-t", str(template_variant)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SAM_CLI_TELEMETRY": "0", "HOME": str(ROOT / ".pagewise")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


AWS_PAGE_MAPS = '{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}'


def _definition(**numbers: int) -> dict[str, Any]:
    """The ASL as Step Functions gets it: the numeric substitutions (unquoted in the file) set
    to ``numbers``, the string ones (ARNs) left as their names."""
    text = ASL.read_text().replace("${PageMapProcessorConfig}", AWS_PAGE_MAPS)
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
    # An exhausted LLM quota (one tenant's burst) waits with a long backoff before failing.
    for step in (translate, states["Summarise"]):
        (quota,) = [r for r in step["Retry"] if "LlmQuotaExceeded" in r["ErrorEquals"]]
        assert quota["MaxAttempts"] >= 3 and quota["IntervalSeconds"] >= 30
        assert quota["JitterStrategy"] == "FULL"


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


# -- what SAM makes of the template (its translator, from the SAM CLI's venv) -----------------

_TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():  # code locations: S3, as after `sam package`
    for key in ("CodeUri", "ContentUri", "DefinitionUri"):
        if key in resource.get("Properties", {}):
            resource["Properties"][key] = "s3://bucket/key"
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""


def _transformed() -> dict[str, Any]:
    assert SAM_PYTHON.exists(), "the SAM CLI is not installed: run `make setup`"
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", _TRANSLATE, str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    transformed: dict[str, Any] = json.loads(result.stdout)
    return transformed


def _aws_functions(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    """Every function deployed to AWS (the local-only bench aside)."""
    return {
        name: spec
        for name, spec in resources.items()
        if spec["Type"] == kind and spec.get("Condition") != "IsLocal"
    }


def test_every_function_goes_in_the_vpc_with_the_iam_it_needs() -> None:
    resources = _transformed()["Resources"]
    functions = _aws_functions(resources, "AWS::Lambda::Function")
    assert len(functions) == 10
    vpc = {
        "Fn::If": [
            "InVpc",
            {
                "SubnetIds": {"Ref": "VpcSubnetIds"},
                "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"},
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    for name, spec in functions.items():
        assert spec["Properties"]["VpcConfig"] == vpc, name
        role = resources[spec["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert any(
            "AWSLambdaVPCAccessExecutionRole" in json.dumps(arn)
            for arn in role["ManagedPolicyArns"]
        ), name
    # The optional access (the CA bundle, the KMS key) reaches every function's role.
    roles = sorted({spec["Properties"]["Role"]["Fn::GetAtt"][0] for spec in functions.values()})
    for policy in ("MongoCaBundleReadPolicy", "KmsKeyUsePolicy"):
        attached = sorted(ref["Ref"] for ref in resources[policy]["Properties"]["Roles"])
        assert attached == roles, policy


def test_every_function_logs_to_its_own_group_for_log_retention_days() -> None:
    resources = _load_template()["Resources"]
    groups = {
        spec["Properties"]["LogGroupName"]["Fn::Sub"]: spec
        for spec in resources.values()
        if spec["Type"] == "AWS::Logs::LogGroup"
    }
    for name, spec in resources.items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        group = groups.get(f"/aws/lambda/${{{name}}}")
        assert group is not None, name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group.get("Condition") == spec.get("Condition"), name
    access = resources["Api"]["Properties"]["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert "Authorization" not in access["Format"] and "header" not in access["Format"]


def test_retention_expires_every_prefix_the_code_writes() -> None:
    code = [*ROOT.glob("layers/common/pagewise/**/*.py"), *ROOT.glob("functions/*/**/*.py")]
    written = {
        prefix + "/" for path in code for prefix in re.findall(r'f"([a-z_]+)/\{', path.read_text())
    }
    assert {"uploads/", "outputs/", "work/"} <= written
    rules = _load_template()["Resources"]["UploadsBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    expiring = {}
    for rule in rules:
        if isinstance(rule, dict) and "Fn::If" in rule:
            condition, rule, _ = rule["Fn::If"]
            assert condition == "HasRetention"
            expiring[rule["Prefix"]] = rule["ExpirationInDays"]
    assert expiring == {prefix: {"Ref": "RetentionDays"} for prefix in written}


def _function_timeouts() -> dict[str, int]:
    template = _load_template()
    default = template["Globals"]["Function"]["Timeout"]
    return {
        name: spec["Properties"].get("Timeout", default)
        for name, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Serverless::Function"
    }


def _window(retrier: dict[str, Any]) -> float:
    """The retrier's nominal backoff (before jitter), all attempts together."""
    interval, rate = retrier["IntervalSeconds"], retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", 3600)
    return float(sum(min(interval * rate**n, cap) for n in range(retrier["MaxAttempts"])))


def test_a_throttled_task_waits_out_the_functions_timeout() -> None:
    # Reserved concurrency throttles a call with Lambda.TooManyRequestsException; every
    # invocation holding a slot ends within its function's timeout, so the retries must last
    # at least that long or a busy moment fails the job.
    timeouts = _function_timeouts()
    text = ASL.read_text()
    states = _definition(OcrPageConcurrency=2, TranslatePageConcurrency=2)["States"]
    checked = 0
    for name, state in _tasks(states):
        function = state["Parameters"]["FunctionName"].removesuffix("Arn")
        assert "${" + function + "Arn}" in text
        retrier = next(
            r
            for r in state["Retry"]
            if "Lambda.TooManyRequestsException" in r["ErrorEquals"]
            or "States.ALL" in r["ErrorEquals"]
        )
        assert _window(retrier) >= timeouts[function], (name, _window(retrier))
        checked += 1
    assert checked >= 9


def _local_overrides() -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    items = config["localstack"]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in items)


def test_reserved_concurrency_never_throttles_one_documents_map() -> None:
    template = _load_template()
    parameters = template["Parameters"]
    for name, spec in _aws_functions(template["Resources"], "AWS::Serverless::Function").items():
        assert "ReservedConcurrentExecutions" in spec["Properties"], name
    local = _local_overrides()
    for values in (
        {name: spec["Default"] for name, spec in parameters.items() if "Default" in spec},
        local,
    ):
        for reserved, per_document in (
            ("OcrPageReservedConcurrency", "OcrPageConcurrency"),
            ("TranslatePageReservedConcurrency", "TranslatePageConcurrency"),
        ):
            value = values.get(reserved, parameters[reserved]["Default"])
            assert value == "" or int(value) >= int(
                values.get(per_document, parameters[per_document]["Default"])
            )
    # LocalStack, like AWS, keeps 100 of its 1000 executions unreserved: the local stack's
    # reservations leave room for that.
    steps = 7 * int(local["StepReservedConcurrency"])
    others = sum(
        int(local[name])
        for name in (
            "ApiReservedConcurrency",
            "OcrPageReservedConcurrency",
            "TranslatePageReservedConcurrency",
        )
    )
    assert steps + others <= 900


def test_every_checkov_suppression_is_argued_in_the_template_and_the_docs() -> None:
    rows = [line for line in SECURITY_DOC.read_text().splitlines() if line.startswith("|")]
    suppressions = 0
    for name, spec in _load_template()["Resources"].items():
        for skip in spec.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 30, (name, skip["id"])
            assert any(f"`{name}`" in row and skip["id"] in row for row in rows), (name, skip["id"])
            suppressions += 1
    assert suppressions > 0


def test_every_parameter_is_in_the_deployment_guide() -> None:
    guide = (ROOT / "docs" / "deploying-to-aws.md").read_text()
    rows = {line.split("|")[1].strip() for line in guide.splitlines() if line.startswith("| `")}
    assert set(_load_template()["Parameters"]) <= {row.strip("`") for row in rows}


def test_page_maps_are_distributed_in_aws_with_the_rights_child_executions_need() -> None:
    from cfnlint.decode import cfn_yaml

    machine = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]["PipelineStateMachine"]
    config = machine["Properties"]["DefinitionSubstitutions"]["PageMapProcessorConfig"]
    # Inline only on LocalStack (it keeps child histories to itself): docs/aws-limits.md.
    assert config["Fn::If"][0] == "IsLocal"
    assert json.loads(config["Fn::If"][1]) == {"Mode": "INLINE"}
    assert config["Fn::If"][2] == AWS_PAGE_MAPS
    states = _definition(OcrPageConcurrency=2, TranslatePageConcurrency=2)["States"]
    for name in ("OcrPages", "TranslatePages"):
        assert states[name]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    statements = [
        statement
        for policy in machine["Properties"]["Policies"]
        if "Statement" in policy
        for statement in policy["Statement"]
    ]
    actions = {action: str(s["Resource"]) for s in statements for action in s["Action"]}
    assert actions["states:StartExecution"].endswith(":stateMachine:${AWS::StackName}-pipeline'}")
    for action in ("states:DescribeExecution", "states:StopExecution"):
        assert actions[action].endswith(":execution:${AWS::StackName}-pipeline/*'}"), action


def test_the_local_stack_applies_each_functions_reserved_concurrency() -> None:
    # LocalStack's CloudFormation ignores ReservedConcurrentExecutions; stack.sh deploy
    # resolves it from the template and the parameters and puts it through the Lambda API.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "reserved_concurrency", ROOT / "localstack" / "reserved_concurrency.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    template = _load_template()
    defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    local = module.Resolver(template, {**defaults, **_local_overrides()})
    functions = _aws_functions(template["Resources"], "AWS::Serverless::Function")

    def reserved(resolver: Any, name: str) -> Any:
        return resolver.value(functions[name]["Properties"]["ReservedConcurrentExecutions"])

    overrides = _local_overrides()
    assert reserved(local, "OcrPageFunction") == overrides["OcrPageReservedConcurrency"]
    assert reserved(local, "PrepareFunction") == overrides["StepReservedConcurrency"]
    unreserved = module.Resolver(template, {**defaults, "OcrPageReservedConcurrency": ""})
    assert reserved(unreserved, "OcrPageFunction") is module.NO_VALUE
    assert "reserved_concurrency.py" in (ROOT / "localstack" / "stack.sh").read_text()
