"""Tools the project installs (scripts/install-system-deps.sh, `make setup`): a test that needs
one fails when it is missing, with what to run; a skip would turn a broken machine green."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

INSTALL_HINT = "run `bash scripts/install-system-deps.sh` (or `make setup`)"


def installed[F: Callable[..., Any]](present: Callable[[], bool], what: str) -> Callable[[F], F]:
    """Decorate a test that needs ``what``: it fails, never skips, when ``present()`` is false."""

    def decorate(test: F) -> F:
        @functools.wraps(test)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not present():
                pytest.fail(f"{what} is not installed: {INSTALL_HINT}")
            return test(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def commands(*names: str) -> Callable[[], bool]:
    return lambda: all(shutil.which(name) for name in names)


def file_exists(path: str | Path) -> Callable[[], bool]:
    return lambda: Path(path).is_file()
