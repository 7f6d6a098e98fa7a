"""python -m scripts.aws_check [--build-dir .aws-sam-aws] [--no-build]

Builds what `sam deploy` would upload to AWS (``sam build`` with the default config env, in
its own build folder, never the local stack's ``.aws-sam``), runs every check, prints one line
per result with its figure, and exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.aws_check import Result, artefacts, elf, imports, sizes

ROOT = Path(__file__).resolve().parents[2]


def sam_build(build_dir: Path, python: str) -> None:
    sam = shutil.which("sam") or str(ROOT / ".venvs" / "sam" / "bin" / "sam")
    environment = {
        **os.environ,
        # sam build needs a python3.13 on PATH (the runtime, and the layers' pip).
        "PATH": os.pathsep.join(
            [str(Path(python).parent), str(Path(sam).parent), os.environ["PATH"]]
        ),
        "SAM_CLI_TELEMETRY": "0",
    }
    # The default config env: what `sam build && sam deploy` does for AWS.
    command = [
        sam, "build", "--config-env", "default", "--template", str(ROOT / "template.yaml"),
        "--build-dir", str(build_dir / "build"), "--cache-dir", str(build_dir / "cache"),
    ]  # fmt: skip
    log = build_dir / "sam-build.log"
    build_dir.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        status = subprocess.run(command, cwd=ROOT, env=environment, stdout=output, stderr=output)
    if status.returncode != 0:
        sys.stdout.write(log.read_text()[-4000:])
        raise SystemExit(f"aws-check: sam build failed (log: {log})")


def python_313() -> str:
    found = subprocess.run(
        [str(ROOT / "localstack" / "stack.sh"), "python", "3.13"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return found.stdout.strip()


def run(build_dir: Path, interpreter: Path) -> list[Result]:
    built = artefacts.load(build_dir / "build")
    results: list[Result] = []
    results += elf.check(built)
    results += sizes.check(built)
    results += imports.check(built, interpreter)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam-aws")
    parser.add_argument("--no-build", action="store_true", help="check the last build as is")
    args = parser.parse_args(argv)
    build_dir = args.build_dir.resolve()
    python = python_313()
    if not args.no_build:
        sam_build(build_dir, python)
    uv = shutil.which("uv") or str(ROOT / ".venvs" / "uv" / "bin" / "uv")
    interpreter = imports.make_runtime_venv(build_dir / "runtime-venv", python, uv)
    results = run(build_dir, interpreter)
    for result in results:
        print(result.line())
    failed = [result for result in results if not result.ok]
    print(f"aws-check: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
