"""scripts/aws_check on small fake artefacts: each check passes on what AWS can load and fails,
with a clear message, on what it cannot (a .so needing glibc 2.36, a library not shipped, a
function over 250 MB or 5 layers, a handler that cannot import). `make aws-check` (run by
`make test`) runs the same checks on the real `sam build` output."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import tesserocr

from scripts.aws_check import artefacts, elf, imports, sizes
from scripts.aws_check.artefacts import Artefacts, Function, Layer

ROOT = Path(__file__).resolve().parents[3]
# Debian 12's libarchive asks for GLIBC_2.36 (AWS's python3.13 runtime has 2.34).
DEBIAN_LIBARCHIVE = Path("/usr/lib/x86_64-linux-gnu/libarchive.so.13")
WHEEL = Path(tesserocr.__file__).resolve().parent  # the manylinux_2_28 wheel's package


def _function(tmp_path: Path, *layers: Layer, handler: str = "app.handler") -> Function:
    code = tmp_path / "function"
    code.mkdir(exist_ok=True)
    return Function("FakeFunction", code, handler, "python3.13", layers)


def _layer(tmp_path: Path, name: str) -> Layer:
    path = tmp_path / name
    (path / "python").mkdir(parents=True, exist_ok=True)
    return Layer(name, path)


def _with_tesserocr(layer: Layer, *, libs: bool) -> None:
    """The tesserocr wheel's extension module in the layer, with or without the libraries it
    bundles in tesserocr.libs/ (its RPATH is $ORIGIN/../tesserocr.libs)."""
    shutil.copytree(WHEEL, layer.path / "python" / "tesserocr")
    if libs:
        shutil.copytree(WHEEL.parent / "tesserocr.libs", layer.path / "python" / "tesserocr.libs")


def _by_name(results: list, prefix: str):  # type: ignore[no-untyped-def]
    return next(result for result in results if result.name.startswith(prefix))


def test_a_so_needing_glibc_2_36_fails(tmp_path: Path) -> None:
    layer = _layer(tmp_path, "OcrLayer")
    _with_tesserocr(layer, libs=True)
    function = _function(tmp_path, layer)
    fine = _by_name(elf.check(Artefacts((function,), (layer,))), "glibc")
    assert fine.ok and "GLIBC_2.27" in fine.figure, fine  # the manylinux_2_28 wheel loads

    if not DEBIAN_LIBARCHIVE.exists():
        pytest.fail(f"{DEBIAN_LIBARCHIVE} (a system package of this machine) is missing")
    shutil.copy(DEBIAN_LIBARCHIVE.resolve(), layer.path / "python" / "libarchive.so.13")
    result = _by_name(elf.check(Artefacts((function,), (layer,))), "glibc")
    assert not result.ok
    assert "GLIBC_2.36" in result.figure and "libarchive.so.13 needs GLIBC_2.36" in result.message


def test_a_library_outside_the_artefact_fails(tmp_path: Path) -> None:
    layer = _layer(tmp_path, "OcrLayer")
    _with_tesserocr(layer, libs=False)
    function = _function(tmp_path, layer)
    result = _by_name(elf.check(Artefacts((function,), (layer,))), "shared libraries")
    assert not result.ok
    assert "needs libtesseract-" in result.message and "not shipped" in result.message

    shutil.copytree(WHEEL.parent / "tesserocr.libs", layer.path / "python" / "tesserocr.libs")
    result = _by_name(elf.check(Artefacts((function,), (layer,))), "shared libraries")
    assert result.ok, result.message  # libstdc++, libc...: the runtime's; the rest: shipped


def test_a_function_over_250_mb_or_5_layers_fails(tmp_path: Path) -> None:
    small = _layer(tmp_path, "SmallLayer")
    (small.path / "python" / "data.bin").write_bytes(b"x" * 1024)
    big = _layer(tmp_path, "BigLayer")
    with (big.path / "python" / "model.bin").open("wb") as handle:
        handle.truncate(251 * 1024 * 1024)  # sparse: 251 MB apparent, no disk used
    fine, heavy = _function(tmp_path, small), _function(tmp_path, small, big)
    results = sizes.check(Artefacts((fine, heavy), (small, big)))
    checks = [result for result in results if result.name.startswith("FakeFunction")]
    assert checks[0].ok, checks[0]
    assert not checks[1].ok and "251.0 MB" in checks[1].figure
    assert "over Lambda's 250 MB unzipped limit" in checks[1].message
    assert _by_name(results, "layer BigLayer").figure == "251.0 MB"

    many = _function(tmp_path, *(small for _ in range(6)))
    (result,) = [r for r in sizes.check(Artefacts((many,), (small,))) if r.name.startswith("Fake")]
    assert not result.ok and "6 layers, Lambda allows 5" in result.message


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway venv with boto3 only, as the check makes it."""
    python = subprocess.run(
        [str(ROOT / "localstack" / "stack.sh"), "python", "3.13"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    uv = str(ROOT / ".venvs" / "uv" / "bin" / "uv")
    return imports.make_runtime_venv(tmp_path_factory.mktemp("runtime") / "venv", python, uv)


def test_a_handler_that_cannot_import_fails(tmp_path: Path, runtime_python: Path) -> None:
    layer = _layer(tmp_path, "CommonLayer")
    (layer.path / "python" / "shared.py").write_text("GREETING = 'hello'\n")
    function = _function(tmp_path, layer)
    app = function.path / "app.py"
    app.write_text(
        textwrap.dedent("""
        import boto3  # the runtime's
        from shared import GREETING  # the layer's, from /opt/python

        def handler(event, context):
            return GREETING
        """)
    )
    (good,) = imports.check(Artefacts((function,), (layer,)), runtime_python)
    assert good.ok and good.figure.endswith(" s"), good

    # pydantic is in the dev venv but in neither the artefact nor the runtime: it must fail.
    app.write_text("import pydantic\n\ndef handler(event, context):\n    return None\n")
    (bad,) = imports.check(Artefacts((function,), (layer,)), runtime_python)
    assert not bad.ok
    assert "ModuleNotFoundError: No module named 'pydantic'" in bad.message

    app.write_text("def handle(event, context):\n    return None\n")
    (renamed,) = imports.check(Artefacts((function,), (layer,)), runtime_python)
    assert not renamed.ok and "handler" in renamed.message


def test_the_built_template_gives_each_function_its_layers_and_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent("""
        Parameters:
          LocalEndpoint: {Type: String, Default: ""}
          MongoDbUri: {Type: String}
        Conditions:
          IsLocal: !Not [!Equals [!Ref LocalEndpoint, ""]]
        Globals:
          Function:
            Runtime: python3.13
            Layers: [!Ref CommonLayer]
            Environment:
              Variables:
                MONGODB_URI: !Ref MongoDbUri
        Resources:
          CommonLayer:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: CommonLayer}
          OcrLayer:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: OcrLayer}
          OcrPageFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: OcrPageFunction
              Handler: app.handler
              Layers: [!Ref OcrLayer]
              Environment:
                Variables:
                  LOCAL_ONLY: !If [IsLocal, "1", !Ref AWS::NoValue]
                  LEVEL: INFO
        """)
    )
    built = artefacts.load(tmp_path)
    (function,) = built.functions
    assert [layer.name for layer in function.layers] == ["CommonLayer", "OcrLayer"]
    assert function.path == tmp_path / "OcrPageFunction"
    assert function.environment == {
        "MONGODB_URI": "mongodb://127.0.0.1:27017/?retryWrites=false",
        "LEVEL": "INFO",
    }
