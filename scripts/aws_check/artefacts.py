"""What `sam build` produced: each function's code folder, handler and layers, in AWS's order."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Layer:
    name: str
    path: Path


@dataclass(frozen=True)
class Function:
    name: str
    path: Path  # /var/task in AWS
    handler: str
    runtime: str
    layers: tuple[Layer, ...]  # in the order AWS extracts them into /opt
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Artefacts:
    functions: tuple[Function, ...]
    layers: tuple[Layer, ...]


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) kept as {tag: value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader with CFN tags


_NO_VALUE = object()


class _Defaults:
    """Intrinsic functions evaluated with every parameter at its default (`sam deploy`
    without overrides): enough for the template's conditions and environment."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.parameters: dict[str, Any] = template.get("Parameters", {})
        self.conditions: dict[str, Any] = template.get("Conditions", {})

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((key, argument),) = node.items()
        key = key.removeprefix("Fn::")
        if key == "Ref":
            if argument == "AWS::NoValue":
                return _NO_VALUE
            if argument in self.parameters:
                # None for a parameter without a default: the deployer must give it.
                return self.parameters[argument].get("Default")
            return None  # a resource: known only once deployed
        if key == "If":
            condition, when_true, when_false = argument
            return self.value(when_true if self.condition(condition) else when_false)
        return None

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(self.conditions.get(node, False))
        if not isinstance(node, dict) or len(node) != 1:
            return bool(node)
        ((key, argument),) = node.items()
        key = key.removeprefix("Fn::")
        if key == "Not":
            return not self.condition(argument[0])
        if key == "Equals":
            return str(self.value(argument[0])) == str(self.value(argument[1]))
        if key == "And":
            return all(self.condition(item) for item in argument)
        if key == "Or":
            return any(self.condition(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        return False


def _placeholder(name: str, value: Any) -> str:
    """An environment value as the template gives it: a literal, a parameter's default, or a
    stand-in for what only a deployment knows (an ARN, a queue URL)."""
    # What every deployment must give (no usable default): a stand-in of the right shape.
    stand_ins = {
        "MONGODB_URI": "mongodb://127.0.0.1:27017/?retryWrites=false",
        "JWT_ISSUER": "https://issuer.example/",
        "JWT_AUDIENCE": "pagewise-api",
        "JWT_JWKS_URL": "https://issuer.example/.well-known/jwks.json",
    }
    if isinstance(value, str | int | float | bool) and not (value == "" and name in stand_ins):
        return str(value)
    return stand_ins.get(name, f"aws-check-{name.lower()}")


def _layer_ids(refs: list[Any]) -> list[str]:
    return [ref["Ref"] for ref in refs if isinstance(ref, dict) and "Ref" in ref]


def load(build_dir: Path) -> Artefacts:
    """The functions and layers of ``build_dir/template.yaml`` (the template `sam build`
    writes, with every CodeUri/ContentUri pointing into the build folder)."""
    template = load_template(build_dir / "template.yaml")
    resources: dict[str, Any] = template.get("Resources", {})
    defaults = _Defaults(template)
    globals_ = template.get("Globals", {}).get("Function", {})
    layers = {
        name: Layer(name, (build_dir / resource["Properties"]["ContentUri"]).resolve())
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    }
    functions = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        # SAM appends a function's own layers to the Globals' ones.
        layer_ids = _layer_ids(globals_.get("Layers", [])) + _layer_ids(
            properties.get("Layers", [])
        )
        variables = {
            key: defaults.value(value)
            for key, value in {
                **globals_.get("Environment", {}).get("Variables", {}),
                **properties.get("Environment", {}).get("Variables", {}),
            }.items()
        }
        functions.append(
            Function(
                name=name,
                path=(build_dir / properties["CodeUri"]).resolve(),
                handler=properties.get("Handler", globals_.get("Handler", "")),
                runtime=properties.get("Runtime", globals_.get("Runtime", "")),
                layers=tuple(layers[layer_id] for layer_id in layer_ids),
                environment={
                    key: _placeholder(key, value)
                    for key, value in variables.items()
                    if value is not _NO_VALUE
                },
            )
        )
    return Artefacts(tuple(functions), tuple(layers.values()))
