"""Apply the deployed template's ReservedConcurrentExecutions to the local stack's functions.

LocalStack's CloudFormation accepts the property but never applies it (its Lambda function
resource provider ignores it), while its Lambda service enforces reserved concurrency set
through the API. `stack.sh deploy` runs this after `sam deploy`: it reads the processed
template and the stack's parameter values back from LocalStack, resolves each function's
ReservedConcurrentExecutions (Ref, Fn::If and the conditions built of Fn::Not, Fn::Equals,
Fn::And, Fn::Or and Condition: what template.yaml uses) and puts it, or deletes it when it
resolves to AWS::NoValue.

Runs on the Lambda interpreter (boto3 only). Usage: python reserved_concurrency.py STACK
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3

NO_VALUE = object()


class Resolver:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.conditions: dict[str, Any] = template.get("Conditions", {})
        self.parameters = parameters

    def condition(self, name: str) -> bool:
        return bool(self.value(self.conditions[name]))

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return NO_VALUE if argument == "AWS::NoValue" else self.parameters[argument]
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::If":
            name, then, otherwise = argument
            return self.value(then if self.condition(name) else otherwise)
        if function == "Fn::Not":
            return not self.value(argument[0])
        if function == "Fn::Equals":
            left, right = (self.value(side) for side in argument)
            return str(left) == str(right)
        if function == "Fn::And":
            return all(self.value(part) for part in argument)
        if function == "Fn::Or":
            return any(self.value(part) for part in argument)
        raise ValueError(f"cannot resolve {function} locally")


def main(stack: str) -> None:
    cloudformation = boto3.client("cloudformation")
    lambda_ = boto3.client("lambda")
    body = cloudformation.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    resolver = Resolver(template, parameters)
    physical = {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for resource in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    }
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Lambda::Function" or logical_id not in physical:
            continue
        setting = resource.get("Properties", {}).get("ReservedConcurrentExecutions", NO_VALUE)
        reserved = resolver.value(setting)
        name = physical[logical_id]
        if reserved is NO_VALUE or reserved == "":
            lambda_.delete_function_concurrency(FunctionName=name)
            continue
        lambda_.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=int(reserved)
        )
        print(f"{logical_id}: reserved concurrency {int(reserved)}")


if __name__ == "__main__":
    main(sys.argv[1])
