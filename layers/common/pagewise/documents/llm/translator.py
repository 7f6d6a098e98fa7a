"""Translation and summary by an LLM: one call per page returns both the legal-English and
the plain-English text as JSON; the summary is one call when the document fits the context
budget, otherwise map-reduce (parts summarised separately, then combined)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import cast

from pagewise.documents.citations import CATEGORIES, FactCategory, KeyFact, OverviewSentence
from pagewise.documents.glossary import GlossaryEntry, check_applied, glossary_lines
from pagewise.documents.llm.chunking import chunk_pages, estimate_tokens, pack, truncate_tokens
from pagewise.documents.llm.client import Answer, LlmClient
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
    SUMMARY_COMBINE_PROMPT,
    SUMMARY_PART_PROMPT,
    SUMMARY_SYSTEM_PROMPT,
    SUMMARY_WHOLE_PROMPT,
    TRANSLATION_CORRECTION_PROMPT,
    TRANSLATION_SYSTEM_PROMPT,
    glossary_correction,
)
from pagewise.documents.summary import SummaryResult
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
    def summarise(self, page_texts: Sequence[str]) -> SummaryResult:
        """A plain-English summary of the whole document (``page_texts`` in page order).

        One call when the text fits :attr:`LlmConfig.summary_input_budget_tokens` (estimated
        with :func:`estimate_tokens`); otherwise map-reduce: consecutive pages are packed into
        parts that fit, the parts are summarised (``summary_concurrency`` at a time), and the
        part summaries are combined, in groups first if even they do not fit one call.
        """
        config = self.config
        pages = [(n, t.strip()) for n, t in enumerate(page_texts, start=1) if t and t.strip()]
        if not pages:
            return SummaryResult(
                text="",
                method="none",
                provider=config.provider_label,
                model=config.model,
                note="The document has no text to summarise.",
            )
        budget = config.summary_input_budget_tokens
        words = config.summary_max_words
        answers: list[Answer] = []

        whole = "\n\n".join(f"[Page {n}]\n{t}" for n, t in pages)
        if estimate_tokens(whole) <= budget:
            answer = self._summary_call(
                SUMMARY_WHOLE_PROMPT.format(words=words, text=whole), what="the summary"
            )
            return self._summary_result(answer.content, "llm", [answer], parts=1)

        chunks = chunk_pages(pages, budget)
        prompts = [
            SUMMARY_PART_PROMPT.format(
                index=i, count=len(chunks), pages=chunk.pages, words=words, text=chunk.text
            )
            for i, chunk in enumerate(chunks, start=1)
        ]
        partial_answers = self._parallel(
            [
                (prompt, f"the summary of part {i} ({chunk.pages})")
                for i, (prompt, chunk) in enumerate(zip(prompts, chunks, strict=True), start=1)
            ]
        )
        answers += partial_answers
        partials = [
            f"Part {i} ({chunk.pages}):\n{answer.content}"
            for i, (chunk, answer) in enumerate(zip(chunks, partial_answers, strict=True), start=1)
        ]
        # Reduce: while the part summaries do not fit one call, combine them in groups.
        while estimate_tokens("\n\n".join(partials)) > budget:
            groups = pack(partials, budget)
            if len(groups) == len(partials):
                # No two part summaries fit together (the model ignored the word limit): cut
                # each to under half the budget so that the next round makes progress.
                partials = [truncate_tokens(p, budget // 2 - 2) for p in partials]
                continue
            group_answers = self._parallel(
                [
                    (
                        SUMMARY_COMBINE_PROMPT.format(
                            scope="these parts", words=words, text="\n\n".join(group)
                        ),
                        f"the combined summary of parts group {i}",
                    )
                    for i, group in enumerate(groups, start=1)
                ]
            )
            answers += group_answers
            partials = [
                f"Parts group {i}:\n{answer.content}"
                for i, answer in enumerate(group_answers, start=1)
            ]
        final = self._summary_call(
            SUMMARY_COMBINE_PROMPT.format(
                scope="the whole document", words=words, text="\n\n".join(partials)
            ),
            what="the combined summary",
        )
        answers.append(final)
        return self._summary_result(final.content, "llm_map_reduce", answers, parts=len(chunks))

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

    def _summary_result(
        self, text: str, method: str, answers: list[Answer], *, parts: int
    ) -> SummaryResult:
        note = f"Summary by {self.config.model} (LLM)."
        if method == "llm_map_reduce":
            note += f" The document was summarised in {parts} parts, then combined."
        return SummaryResult(
            text=text,
            method=method,
            provider=self.config.provider_label,
            model=self.config.model,
            note=note,
            prompt_tokens=sum(a.prompt_tokens for a in answers),
            completion_tokens=sum(a.completion_tokens for a in answers),
            calls=len(answers),
        )

    def _summary_call(self, prompt: str, *, what: str) -> Answer:
        answer = self._client.complete(
            [
                {"role": "system", "content": SUMMARY_SYSTEM_PROMPT},
                {"role": "user", "content": prompt},
            ],
            what=what,
            json_output=False,
        )
        content = answer.content.strip()
        if not content:
            raise LlmBadRequest(
                f"The LLM ({self.config.model}) returned an empty answer for {what}.",
                "llm_invalid_output",
            )
        return Answer(content, answer.prompt_tokens, answer.completion_tokens)

    def _parallel(self, calls: list[tuple[str, str]]) -> list[Answer]:
        """Summary calls, ``summary_concurrency`` at a time; answers in order. The first
        failure (in order) is raised once the calls already running have finished."""
        workers = min(self.config.summary_concurrency, len(calls))
        if workers <= 1:
            return [self._summary_call(prompt, what=what) for prompt, what in calls]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-summary") as pool:
            futures: list[Future[Answer]] = [
                pool.submit(self._summary_call, prompt, what=what) for prompt, what in calls
            ]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


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
