"""Translation stage: how close the TranslatePages Map comes to the LLM's own pace.

A local OpenAI-compatible server (tests/support/fake_openai.py, in this process) answers every
call after a fixed 1.0 s; the deployed TranslatePage and Summarise functions are pointed at it
through their own LLM_* settings for the length of the run, then put back. A born-digital PDF
of short pages runs through the stack (each page makes two LLM calls at once: its own, and
its blocks' for the overlay); the stage is the TranslatePages
Map, from its MapStateStarted to its end in the execution history. Ideal: pages x 1 s ÷
TranslatePageConcurrency (the Map's MaxConcurrency, read from the deployed state machine).
The figure is pages/min measured next to the ideal pages/min: their ratio is
ideal time ÷ measured time (issue 16: at least 0.90).

Needs the local stack (`make up`). Usage: python bench/translation.py [--pages 32] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pymupdf
from benchkit import ROOT, Figure, aws, outputs, run_job, table
from overhead import history

# The fake LLM and the function reconfiguration of the tests (which read pagewise's models).
sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT))

from tests.stack import llm_functions_answered_by
from tests.support.fake_openai import FakeOpenAI

BENCHMARK = "Translation stage"
LLM_SECONDS = 1.0
CLAUSE = "CLÁUSULA {n}. El arrendatario pagará la renta dentro de los cinco primeros días."


def short_pages_pdf(path: Path, pages: int) -> Path:
    """Born-digital pages of one clause each: each page is one LLM call."""
    with pymupdf.open() as doc:
        for number in range(1, pages + 1):
            page = doc.new_page(width=595, height=842)
            page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), CLAUSE.format(n=number))
        doc.save(path)
    return path


def translate_concurrency() -> int:
    definition = json.loads(
        aws("stepfunctions").describe_state_machine(stateMachineArn=outputs()["StateMachineArn"])[
            "definition"
        ]
    )
    return int(definition["States"]["TranslatePages"]["MaxConcurrency"])


def map_seconds(events: list[dict[str, Any]], name: str) -> float:
    """From the named Map state's MapStateStarted to the Map's end."""
    entered = next(
        e
        for e in events
        if e["type"] == "MapStateEntered" and e["stateEnteredEventDetails"]["name"] == name
    )
    started = next(e for e in events if e["type"] == "MapStateStarted" and e["id"] > entered["id"])
    ended = next(
        e
        for e in events
        if e["type"] in ("MapStateSucceeded", "MapStateFailed") and e["id"] > started["id"]
    )
    return float((ended["timestamp"] - started["timestamp"]).total_seconds())


def run(pages: int) -> list[Figure]:
    concurrency = translate_concurrency()
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.control({"delay_seconds": LLM_SECONDS})
        with llm_functions_answered_by(fake.base_url, timeout_seconds=30):
            pdf = short_pages_pdf(Path(tmp) / f"short-{pages}.pdf", pages)
            # A first job warms the reconfigured functions' environments (their settings
            # changed, so LocalStack starts new ones), as a busy service would have them.
            run_job(short_pages_pdf(Path(tmp) / "warm.pdf", concurrency), "bench-llm")
            fake.control({"clear_requests": True})
            job = run_job(pdf, "bench-llm", source_language="es")
        translations = [r for r in fake.requests if "response_format" in (r.get("body") or {})]
    measured = map_seconds(history(job.job_id), "TranslatePages")
    ideal = pages * LLM_SECONDS / concurrency
    return [
        Figure(
            BENCHMARK,
            f"{pages} pages, fake LLM answering after {LLM_SECONDS:.1f} s, "
            f"TranslatePageConcurrency {concurrency}: TranslatePages Map ({measured:.1f} s)",
            pages / measured * 60,
            "pages/min",
            f"ideal, pages x {LLM_SECONDS:.0f} s ÷ {concurrency} ({ideal:.1f} s)",
            pages / ideal * 60,
            f"{len(translations)} translation calls for {pages} pages (the page, and its "
            f"blocks for the overlay beside it)",
            "ratio >= 0.90",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="4 pages")
    args = parser.parse_args()
    print(table(run(4 if args.smoke else args.pages)))


if __name__ == "__main__":
    main()
