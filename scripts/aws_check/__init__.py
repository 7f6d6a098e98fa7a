"""`make aws-check`: what `sam build` makes for AWS, checked against AWS Lambda's limits.

Each check is a module with ``check(artefacts) -> list[Result]``; ``python -m
scripts.aws_check`` builds (``sam build``, the default config env, into ``.aws-sam-aws/``),
runs every check in ``CHECKS``, prints one line per result with its figure, and exits 1 when
any failed. A new check is a module here added to ``CHECKS`` in ``__main__``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One checked fact: ``figure`` is the measured value, ``message`` what to do when not
    ``ok`` (or a detail when it is)."""

    name: str
    ok: bool
    figure: str
    message: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        detail = f" -- {self.message}" if self.message else ""
        return f"[{mark}] {self.name}: {self.figure}{detail}"
