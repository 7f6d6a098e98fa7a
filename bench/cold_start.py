"""Cold start of every function: the import time of its handler module, and its first
invocation in a fresh execution environment.

- Import: `python -X importtime` of functions/<name>/app.py as deployed (the function's zip
  and its layers' zips, fetched from LocalStack), on the Lambda interpreter
  (.venvs/lambda-python), with the layers on sys.path in AWS order and the function's
  deployed environment variables: the `app` module's cumulative import time. Baseline: the
  bare Mangum hello function.
- First invocation: from the REPORT lines in CloudWatch Logs (one log stream per execution
  environment): the host executor reports `Init Duration` on an environment's first REPORT,
  as AWS does. Figure: median over environments of Init Duration + first Duration; baseline:
  the median Duration of the function's warm invocations.
- The API function must import none of pymupdf, fitz, reportlab, openai (its cold start
  stays small); this script exits non-zero if it does.

Needs the local stack (`make up`). Usage: python bench/cold_start.py [--smoke]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from benchkit import (
    LAMBDA_PYTHON,
    ROOT,
    STACK_NAME,
    STATE_DIR,
    Figure,
    aws,
    deployed_environment,
    median,
    physical_id,
    reports,
    table,
)

BENCHMARK = "Cold start"
HEAVY = frozenset({"pymupdf", "fitz", "reportlab", "openai"})
BASELINE = "bench_hello"
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def logical_id(function: str) -> str:
    """functions/ocr_page -> OcrPageFunction, as named in template.yaml."""
    return "".join(part.capitalize() for part in function.split("_")) + "Function"


def functions() -> list[str]:
    """The functions of functions/ that the deployed stack has."""
    deployed = {
        resource["LogicalResourceId"]
        for page in aws("cloudformation")
        .get_paginator("list_stack_resources")
        .paginate(StackName=STACK_NAME)
        for resource in page["StackResourceSummaries"]
    }
    return sorted(
        path.parent.name
        for path in (ROOT / "functions").glob("*/app.py")
        if logical_id(path.parent.name) in deployed
    )


@dataclass(frozen=True)
class ImportProfile:
    function: str
    app_ms: float  # cumulative import time of the handler module
    modules: frozenset[str]  # top-level packages imported

    @property
    def heavy(self) -> frozenset[str]:
        return self.modules & HEAVY


def _unzipped(location: str, sha256: str) -> Path:
    """A deployed zip (function code or layer) from LocalStack's internal bucket, unzipped
    once per content hash under the stack's state directory."""
    target = STATE_DIR / "bench" / "code" / base64.b64decode(sha256).hex()[:32]
    if not (target / ".complete").exists():
        bucket, _, key = urlparse(location).path.lstrip("/").partition("/")
        body = aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        shutil.rmtree(target, ignore_errors=True)
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            archive.extractall(target)
        (target / ".complete").touch()
    return target


def deployed_code(logical: str) -> tuple[Path, list[Path]]:
    """The function's code and its layers exactly as deployed (not .aws-sam/build, which a
    concurrent `sam build` may be rewriting): task root and layer folders, in order."""
    lambda_ = aws("lambda")
    function = lambda_.get_function(FunctionName=physical_id(logical))
    configuration = function["Configuration"]
    task_root = _unzipped(function["Code"]["Location"], configuration["CodeSha256"])
    layers = []
    for layer in configuration.get("Layers", []):
        content = lambda_.get_layer_version_by_arn(Arn=layer["Arn"])["Content"]
        layers.append(_unzipped(content["Location"], content["CodeSha256"]))
    return task_root, layers


def import_profile(function: str) -> ImportProfile:
    logical = logical_id(function)
    task_root, layers = deployed_code(logical)
    path = [str(task_root)]
    for layer in reversed(layers):  # later layers are extracted over earlier ones
        path += [str(layer / "python" / "lib" / "python3.13" / "site-packages")]
        path += [str(layer / "python")]
    environment = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        **deployed_environment(logical),
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": physical_id(logical),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    # -I as the host executor's worker runs: PYTHONPATH and the user site are ignored.
    code = f"import sys; sys.path[:0] = {path!r}; import app"
    result = subprocess.run(
        [str(LAMBDA_PYTHON), "-I", "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=task_root,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"importing {function}'s handler failed:\n{result.stderr[-3000:]}")
    app_us, modules = 0, set()
    for line in result.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if not match:
            continue
        modules.add(match.group(4).split(".")[0])
        if match.group(4) == "app" and not match.group(3).strip():
            app_us = int(match.group(2))
    return ImportProfile(function, app_us / 1000, frozenset(modules))


def fastest_import(function: str, repeat: int) -> ImportProfile:
    """The fastest of `repeat` fresh imports: the least disturbed by the rest of this shared
    machine."""
    return min((import_profile(function) for _ in range(repeat)), key=lambda p: p.app_ms)


def import_figures(
    names: list[str], repeat: int = 1
) -> tuple[list[Figure], dict[str, ImportProfile]]:
    profiles = {name: fastest_import(name, repeat) for name in sorted({BASELINE, *names})}
    baseline = profiles[BASELINE]
    figures = [
        Figure(
            BENCHMARK,
            f"import {name} handler (-X importtime, cumulative, best of {repeat})",
            profile.app_ms,
            "ms",
            "bare Mangum hello" if name != BASELINE else "",
            baseline.app_ms if name != BASELINE else None,
            "heavy: " + ", ".join(sorted(profile.heavy)) if profile.heavy else "",
        )
        for name, profile in profiles.items()
    ]
    return figures, profiles


def first_invoke_figures(names: list[str]) -> list[Figure]:
    figures = []
    for name in names:
        found = reports(logical_id(name))
        firsts = [r for r in found if r.init_ms is not None]
        with_init = bool(firsts)
        if not firsts:  # environments started before the executor reported Init Duration
            firsts = [r for r in found if r.first_in_stream]
        first_ids = {r.request_id for r in firsts}
        warm = [r.duration_ms for r in found if r.request_id not in first_ids]
        if not firsts:
            continue
        first_total = median([r.duration_ms + (r.init_ms or 0) for r in firsts])
        init = median([r.init_ms or 0 for r in firsts])
        figures.append(
            Figure(
                BENCHMARK,
                f"first invoke of {name} (Init + Duration, {len(firsts)} environments)",
                first_total,
                "ms",
                f"warm invoke median ({len(warm)} invocations)" if warm else "",
                median(warm) if warm else None,
                f"Init Duration median {init:.0f} ms"
                if with_init
                else "no Init Duration logged (older environments): Duration only",
            )
        )
    return figures


def run(smoke: bool) -> list[Figure]:
    names = ["api", "ocr_page"] if smoke else functions()
    figures, profiles = import_figures(names, 1 if smoke else 3)
    figures += first_invoke_figures(names)
    heavy = profiles["api"].heavy
    if heavy:
        print(table(figures))
        raise SystemExit(
            f"the API function imports {sorted(heavy)}: its cold start must stay small"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="the API and OcrPage functions only")
    args = parser.parse_args()
    print(table(run(args.smoke)))


if __name__ == "__main__":
    main()
