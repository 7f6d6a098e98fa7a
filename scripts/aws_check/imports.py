"""Every handler imports in a clean Python 3.13 with only its artefact, its layers and boto3.

The interpreter is a throwaway venv holding boto3 alone (what AWS's runtime adds to the
standard library); it runs isolated (``python -I``: no PYTHONPATH, no user site), with
``sys.path`` laid out as AWS lays out a function (``/var/task``, then for the layers, merged
into ``/opt`` with later layers over earlier ones, ``python/lib/python3.13/site-packages``
and ``python/``) and the function's environment from the template (parameters at their
defaults, stand-ins for what only a deployment knows). Importing a module imports its
dependencies' native libraries too, so a missing ``.so`` fails here as well.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scripts.aws_check import Result
from scripts.aws_check.artefacts import Artefacts, Function

_IMPORT = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
module, _, name = {handler!r}.rpartition(".")
handler = getattr(importlib.import_module(module), name)
assert callable(handler), "the handler is not callable"
print(json.dumps({{"seconds": time.perf_counter() - started}}))
"""
_TIMEOUT_SECONDS = 180


def make_runtime_venv(directory: Path, python: str, uv: str) -> Path:
    """A venv with boto3 only (kept between runs; rebuilt when it is gone)."""
    interpreter = directory / "bin" / "python"
    if not interpreter.exists():
        subprocess.run([uv, "venv", "-q", "-p", python, str(directory)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "-p", str(interpreter), "boto3"], check=True)
    return interpreter


def sys_path(function: Function) -> list[str]:
    paths = [str(function.path)]
    for layer in reversed(function.layers):
        paths += [str(layer.path / "python" / "lib" / "python3.13" / "site-packages")]
        paths += [str(layer.path / "python")]
    return paths


def import_handler(function: Function, interpreter: Path) -> Result:
    environment = {
        **function.environment,
        "PATH": "/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": str(function.path),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    code = _IMPORT.format(paths=sys_path(function), handler=function.handler)
    name = f"{function.name} handler {function.handler} imports"
    try:
        process = subprocess.run(
            [str(interpreter), "-I", "-B", "-c", code],  # -B: leave the artefact as built
            cwd=function.path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Result(name, False, f"over {_TIMEOUT_SECONDS} s", "the import did not finish")
    if process.returncode != 0:
        lines = [line for line in process.stderr.strip().splitlines() if line.strip()]
        return Result(name, False, "import failed", " | ".join(lines[-3:]) or "no output")
    seconds = json.loads(process.stdout.strip().splitlines()[-1])["seconds"]
    return Result(name, True, f"{seconds:.2f} s")


def check(artefacts: Artefacts, interpreter: Path) -> list[Result]:
    return [import_handler(function, interpreter) for function in artefacts.functions]
