"""Translation and summary by an LLM: one call per page returns both the legal-English and
the plain-English text as JSON; the cited summary is one JSON call per part of the document
that fits the context budget (one for most documents), the parts' answers put together in
page order."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from pagewise.documents.citations import CATEGORIES, FactCategory, KeyFact, OverviewSentence
from pagewise.documents.glossary import GlossaryEntry, check_applied, glossary_lines
from pagewise.documents.llm.chunking import chunk_pages
from pagewise.documents.llm.client import LlmClient
from pagewise.documents.llm.config import LlmConfig
from pagewise.documents.llm.errors import LlmBadRequest
from pagewise.documents.llm.output import InvalidOutput, parse_translation
from pagewise.documents.llm.prompts import (
    CITED_SUMMARY_PROMPT,
    CITED_SUMMARY_SCHEMA,
    CITED_SUMMARY_SYSTEM_PROMPT,
    COMPLETION_NOTE,
    CONTINUATION_NOTE,
    GLOSSARY_INSTRUCTIONS,
    TRANSLATION_CORRECTION_PROMPT,
    TRANSLATION_SYSTEM_PROMPT,
    glossary_correction,
)
from pagewise.documents.translate import PageTranslation
from pagewise.observability import tracer

LOG = logging.getLogger(__name__)

BLANK_PAGE_NOTE = "No text on this page: nothing to translate."
OVERVIEW_SENTENCES = 5


@dataclass(frozen=True)
class CitedSummaryAnswer:
    """What the LLM said: overview sentences and key facts, not yet verified."""

    overview: list[OverviewSentence]
    facts: list[KeyFact]
    prompt_tokens: int
    completion_tokens: int
    calls: int


class LlmTranslator:
    """Translates pages and summarises documents with one :class:`LlmClient` (one
    ``openai.OpenAI`` client), built here once and reused (it is thread-safe; keep one per
    Lambda execution environment)."""

    def __init__(self, config: LlmConfig) -> None:
        self.config = config
        self._client = LlmClient(config)

    @property
    def client(self) -> LlmClient:
        """The one client, for other calls that share it (the per-block translation)."""
        return self._client

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LlmTranslator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- translation ------------------------------------------------------------------------

    # Traced (an X-Ray subsegment per call), without the answer: it is a page of text.
    @tracer.capture_method(capture_response=False)
    def translate_page(
        self,
        text: str,
        *,
        source_language: str | None,
        page_number: int,
        glossary: Sequence[GlossaryEntry] = (),
        completion: str = "",
        continues_previous: bool = False,
    ) -> PageTranslation:
        """Legal and plain English for one page: one call (two if the first answer is not
        valid JSON, or if it left out a glossary term). A blank page makes no call.

        ``text`` is what this page's translation covers (see
        :mod:`pagewise.documents.continuation`): ``completion`` (already at its end) came from
        the next page to end its last sentence; ``continues_previous`` says its start went to
        the previous page. ``glossary``: the entries whose source terms occur in ``text``; the
        prompt lists them, and the answer's legal English is checked for their English terms.

        Raises :class:`LlmThrottled`, :class:`LlmUnavailable` or :class:`LlmBadRequest`.
        """
        config = self.config
        if not text.strip():
            return PageTranslation(
                legal_english="",
                plain_english="",
                provider=config.provider_label,
                model=config.model,
                translated=True,
                note=BLANK_PAGE_NOTE,
            )
        hint = source_language.strip() if source_language and source_language.strip() else None
        notes = []
        if continues_previous:
            notes.append(CONTINUATION_NOTE.format(previous_page=page_number - 1))
        if completion:
            notes.append(COMPLETION_NOTE.format(next_page=page_number + 1))
        if glossary:
            notes.append(GLOSSARY_INSTRUCTIONS.format(lines=glossary_lines(glossary)))
        user = (
            f"Page {page_number}. Source language: "
            + (f"{hint} (a hint; it may be wrong)." if hint else "unknown.")
            + "".join(f"\n\n{note}" for note in notes)
            + f"\n\n<page>\n{text.strip()}\n</page>"
        )
        messages: list[dict[str, str]] = [
            {"role": "system", "content": TRANSLATION_SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ]
        what = f"page {page_number}"
        tokens = [0, 0]
        legal, plain, language, content = self._translation_call(messages, what, tokens)
        applied, missed = check_applied(glossary, legal)
        if missed:
            # One corrective retry, naming the terms; what is still missed is reported.
            LOG.warning("LLM answer for %s missed %d glossary terms; retrying", what, len(missed))
            messages += glossary_correction(content, missed)
            legal, plain, language, _ = self._translation_call(messages, what, tokens)
            applied, missed = check_applied(glossary, legal)
        return PageTranslation(
            legal_english=legal,
            plain_english=plain,
            provider=config.provider_label,
            model=config.model,
            translated=True,
            note=f"Translated by {config.model} (LLM).",
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            detected_language=language,
            glossary_applied=tuple(applied),
            glossary_missed=tuple(missed),
        )

    def _translation_call(
        self, messages: list[dict[str, str]], what: str, tokens: list[int]
    ) -> tuple[str, str, str | None, str]:
        """One translation answer, parsed, and its raw content (with one corrective retry if it
        is not the JSON asked for); ``messages`` gains that exchange, ``tokens`` the usage."""
        answer = self._client.complete(messages, what=what, json_output=True)
        tokens[0] += answer.prompt_tokens
        tokens[1] += answer.completion_tokens
        try:
            parsed = parse_translation(answer.content)
        except InvalidOutput as problem:
            LOG.warning("LLM answer for %s unusable (%s); asking once more", what, problem)
            messages += [
                {"role": "assistant", "content": answer.content},
                {"role": "user", "content": TRANSLATION_CORRECTION_PROMPT.format(problem=problem)},
            ]
            answer = self._client.complete(messages, what=what, json_output=True)
            tokens[0] += answer.prompt_tokens
            tokens[1] += answer.completion_tokens
            try:
                parsed = parse_translation(answer.content)
            except InvalidOutput as again:
                raise LlmBadRequest(
                    f"The LLM ({self.config.model}) did not return the translation of {what} in "
                    f"the expected JSON form, twice: {again}.",
                    "llm_invalid_output",
                ) from None
        return (*parsed, answer.content)

    # -- summary ----------------------------------------------------------------------------

    @tracer.capture_method(capture_response=False)
    def cited_summary(self, pages: Sequence[tuple[int, str]]) -> CitedSummaryAnswer:
        """Overview sentences with their pages, and key facts with a page and a verbatim
        quote, from the pages' source text (``(page number, text)``). One JSON call per part
        of the document that fits the summary budget (one for most documents); the parts'
        overviews and facts are put together in page order. Nothing here is verified: see
        :func:`pagewise.documents.citations.checked_summary`.
        """
        config = self.config
        present = [(n, t.strip()) for n, t in pages if t and t.strip()]
        if not present:
            return CitedSummaryAnswer([], [], 0, 0, 0)
        chunks = chunk_pages(present, config.summary_input_budget_tokens)
        system = CITED_SUMMARY_SYSTEM_PROMPT.format(sentences=OVERVIEW_SENTENCES)
        overview: list[OverviewSentence] = []
        facts: list[KeyFact] = []
        prompt_tokens = completion_tokens = calls = 0
        for index, chunk in enumerate(chunks, start=1):
            scope = (
                "Summarise this document and list its key facts."
                if len(chunks) == 1
                else f"This is part {index} of {len(chunks)} ({chunk.pages}) of one document: "
                "summarise this part and list its key facts."
            )
            what = "the summary" if len(chunks) == 1 else f"the summary of {chunk.pages}"
            messages = [
                {"role": "system", "content": system},
                {
                    "role": "user",
                    "content": CITED_SUMMARY_PROMPT.format(scope=scope, text=chunk.text),
                },
            ]
            answer = self._client.complete(
                messages,
                what=what,
                json_output=True,
                schema=("cited_summary", CITED_SUMMARY_SCHEMA),
            )
            prompt_tokens += answer.prompt_tokens
            completion_tokens += answer.completion_tokens
            calls += 1
            part_overview, part_facts = _parse_cited(answer.content)
            overview += part_overview
            facts += part_facts
        return CitedSummaryAnswer(overview, facts, prompt_tokens, completion_tokens, calls)


def _parse_cited(content: str) -> tuple[list[OverviewSentence], list[KeyFact]]:
    """The overview and facts of a cited-summary answer; what does not parse is left out
    (an unusable answer is an empty summary, never a failed job)."""
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    try:
        data = json.loads(text)
    except ValueError:
        LOG.warning("the cited summary was not JSON; no overview or facts from it")
        return [], []
    if not isinstance(data, dict):
        return [], []
    overview = []
    for item in data.get("overview") or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            pages = [p for p in item.get("pages") or [] if isinstance(p, int)]
            overview.append(OverviewSentence(text=item["text"].strip(), pages=pages))
    facts = []
    for item in data.get("facts") or []:
        if not isinstance(item, dict):
            continue
        category = item.get("category")
        page, quote, fact = item.get("page"), item.get("quote"), item.get("text")
        if (
            category in CATEGORIES
            and isinstance(page, int)
            and isinstance(quote, str)
            and isinstance(fact, str)
        ):
            facts.append(
                KeyFact(
                    category=cast(FactCategory, category),
                    text=fact.strip(),
                    page=page,
                    quote=quote.strip(),
                )
            )
    return overview, facts
