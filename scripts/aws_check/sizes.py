"""Each function's code plus its layers fits Lambda: at most 250 MB unzipped, at most 5 layers
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)."""

from __future__ import annotations

from pathlib import Path

from scripts.aws_check import Result
from scripts.aws_check.artefacts import Artefacts

MAX_UNZIPPED_BYTES = 262_144_000  # "250 MB" as Lambda counts it: 250 MiB
MAX_LAYERS = 5
MB = 1024 * 1024


def unzipped_bytes(root: Path) -> int:
    """What the folder weighs unzipped: the sum of its regular files (as ``du -b`` counts
    apparent sizes; a zip holds no sparse files)."""
    return sum(path.lstat().st_size for path in root.rglob("*") if path.is_file())


def check(artefacts: Artefacts) -> list[Result]:
    sizes = {layer.path: unzipped_bytes(layer.path) for layer in artefacts.layers}
    results = [
        Result(f"layer {layer.name} unzipped", True, f"{sizes[layer.path] / MB:.1f} MB")
        for layer in artefacts.layers
    ]
    for function in artefacts.functions:
        code = unzipped_bytes(function.path)
        layers = [sizes.get(layer.path) or unzipped_bytes(layer.path) for layer in function.layers]
        total = code + sum(layers)
        parts = ", ".join(
            [f"code {code / MB:.1f}"]
            + [
                f"{layer.name} {size / MB:.1f}"
                for layer, size in zip(function.layers, layers, strict=True)
            ]
        )
        problems = []
        if total > MAX_UNZIPPED_BYTES:
            problems.append(
                f"{total / MB:.1f} MB is over Lambda's {MAX_UNZIPPED_BYTES / MB:.0f} MB "
                "unzipped limit for a function and its layers: move data to S3 or split the layer"
            )
        if len(function.layers) > MAX_LAYERS:
            problems.append(f"{len(function.layers)} layers, Lambda allows {MAX_LAYERS}")
        results.append(
            Result(
                f"{function.name} code + layers <= 250 MB, <= {MAX_LAYERS} layers",
                not problems,
                f"{total / MB:.1f} MB ({parts}), {len(function.layers)} layers",
                "; ".join(problems),
            )
        )
    return results
