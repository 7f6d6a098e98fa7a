"""Fixtures shared by the core and the document unit tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def tesseract_calls(tmp_path: Path) -> tuple[str, Callable[[], list[str]]]:
    """A ``tesseract`` that logs its arguments and runs the real one: (command, calls())."""
    real = shutil.which("tesseract")
    if real is None:
        pytest.skip("tesseract is not installed")
    log = tmp_path / "tesseract-calls.log"
    script = tmp_path / "tesseract-logged"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)

    def calls() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    return str(script), calls
