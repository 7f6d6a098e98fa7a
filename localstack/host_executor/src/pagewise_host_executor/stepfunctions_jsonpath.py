"""Step Functions on LocalStack: parse each JSONPath expression once, not at every use.

LocalStack's Step Functions interpreter evaluates every ``InputPath``, ``OutputPath``,
``ItemsPath``, ``ResultPath`` and ``"key.$": "$.path"`` parameter by calling jsonpath_ng's
``parse`` on the expression's text, and jsonpath_ng's parser builds its LALR tables with PLY
from scratch on each call (``ply.yacc.yacc``, several milliseconds). Sampled with py-spy
during an 8-page job, building those tables was 11 % of LocalStack's CPU, on a machine whose
two cores the OCR needs.

A state machine's expressions are a fixed, small set, and a parsed expression is never
changed by its use (``find`` and ``update_or_create`` change the data, not the expression),
so one parse per distinct text is kept (bounded LRU). Only Step Functions' two call sites
are patched; the rest of LocalStack keeps jsonpath_ng as it is. AWS is not concerned: this
runs in the LocalStack process only.

Registered as a LocalStack ``on_infra_start`` hook (entry point in pyproject.toml).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

# Distinct JSONPath texts of every state machine deployed; ours have a few dozen.
_CACHED_EXPRESSIONS = 4096


def cache_parses() -> None:
    """Replace the ``parse`` that Step Functions' JSONPath helpers call by a cached one."""
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.utils import json_path

    for module in (json_path, result_path):
        parse = module.parse
        if getattr(parse, "cache_info", None) is None:
            module.parse = _cached(parse)  # type: ignore[attr-defined]
    LOG.info("pagewise: Step Functions parses each JSONPath expression once")


def _cached(parse: Any) -> Any:
    @functools.lru_cache(maxsize=_CACHED_EXPRESSIONS)
    def cached_parse(path: str) -> Any:
        return parse(path)

    return functools.wraps(parse)(cached_parse)


@hooks.on_infra_start()
def cache_stepfunctions_jsonpath_parses() -> None:
    cache_parses()
