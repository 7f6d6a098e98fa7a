"""What a job's LLM calls will cost, estimated from the page texts before any call is made.

Tokens are estimated as the LLM package does (:func:`estimate_tokens`: UTF-8 bytes / 3, which
overestimates English and accented Latin text), for each call the pipeline will make:

* each page with text: the translation prompt (instructions, the page's text with what the
  plan added to it, its glossary lines) in; both translations and the JSON around them out
  (:data:`OUTPUT_PER_INPUT` of the page text's tokens each, so about twice the text);
* each page with text, again block by block for the overlay (issue 13's per-block
  translation): the page's own text as JSON blocks and its glossary lines in, their legal
  English out;
* the summary: every page's source text and the instructions in, its answer out
  (``summary_output_tokens``).

A corrective retry (invalid JSON, a missed glossary term) is not in the estimate: it is the
exception, and the actual usage counts it. Prices are per million tokens, input and output,
per model (settings); cost = tokens / 1e6 x price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from pagewise.documents.llm.chunking import estimate_tokens
from pagewise.documents.llm.prompts import CITED_SUMMARY_SYSTEM_PROMPT, TRANSLATION_SYSTEM_PROMPT

OUTPUT_PER_INPUT = 1.1
JSON_OVERHEAD_TOKENS = 30
PAGE_HEADER_TOKENS = 40


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


# As published by OpenAI when this was written; LLM_PRICES overrides or adds models.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
}


class CostEstimate(BaseModel):
    model: str | None
    pages: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    # None when the model has no configured price (or there is no LLM: then 0).
    cost: float | None
    currency: str = "USD"
    price: ModelPrice | None = None

    def describe(self) -> str:
        tokens = f"{self.prompt_tokens + self.completion_tokens:,} tokens"
        tokens += f" ({self.prompt_tokens:,} in, {self.completion_tokens:,} out"
        tokens += f", {self.llm_calls} calls)"
        if self.cost is None:
            return f"{tokens}; no price is configured for model {self.model}"
        return f"{tokens}, about {self.cost:.4f} {self.currency}"


def cost_of(prompt_tokens: int, completion_tokens: int, price: ModelPrice | None) -> float | None:
    if price is None:
        return None
    return round((prompt_tokens * price.input + completion_tokens * price.output) / 1e6, 6)


def estimate_job(
    page_texts: Sequence[str],
    *,
    model: str | None,
    prices: Mapping[str, ModelPrice],
    extra_prompt_per_page: Sequence[str] = (),
    extra_block_prompt_per_page: Sequence[str] = (),
    summary_output_tokens: int = 1_000,
    source_texts: Sequence[str] = (),
    per_block: bool = True,
) -> CostEstimate:
    """The estimate for translating ``page_texts`` (what each page's call will carry),
    translating ``source_texts`` block by block (``per_block``) and summarising them
    (``source_texts`` default: ``page_texts``). ``extra_prompt_per_page`` and
    ``extra_block_prompt_per_page``: what else the page's and its blocks' prompts carry (the
    glossary lines). No model: no LLM, nothing to pay."""
    if not model:
        return CostEstimate(
            model=None,
            pages=len(page_texts),
            llm_calls=0,
            prompt_tokens=0,
            completion_tokens=0,
            cost=0.0,
        )
    from pagewise.documents.block_translation import BLOCKS_SYSTEM_PROMPT

    system = estimate_tokens(TRANSLATION_SYSTEM_PROMPT)
    block_system = estimate_tokens(BLOCKS_SYSTEM_PROMPT)
    prompt = completion = calls = 0
    for index, text in enumerate(page_texts):
        if not text.strip():
            continue  # a blank page makes no call
        extra = extra_prompt_per_page[index] if index < len(extra_prompt_per_page) else ""
        body = estimate_tokens(text)
        prompt += system + PAGE_HEADER_TOKENS + body + estimate_tokens(extra)
        completion += int(2 * OUTPUT_PER_INPUT * body) + JSON_OVERHEAD_TOKENS
        calls += 1
    sources = source_texts or page_texts
    for index, text in enumerate(sources if per_block else ()):
        if not text.strip():
            continue
        extras = extra_block_prompt_per_page
        extra = extras[index] if index < len(extras) else ""
        body = estimate_tokens(text)
        # The blocks go as JSON (ids, escaping): a tenth more each way.
        prompt += block_system + PAGE_HEADER_TOKENS + int(OUTPUT_PER_INPUT * body)
        prompt += estimate_tokens(extra)
        completion += int(OUTPUT_PER_INPUT * body) + JSON_OVERHEAD_TOKENS
        calls += 1
    whole = "\n\n".join(t for t in sources if t.strip())
    if whole:
        prompt += (
            estimate_tokens(CITED_SUMMARY_SYSTEM_PROMPT)
            + PAGE_HEADER_TOKENS
            + estimate_tokens(whole)
        )
        completion += summary_output_tokens
        calls += 1
    price = prices.get(model)
    return CostEstimate(
        model=model,
        pages=len(page_texts),
        llm_calls=calls,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=cost_of(prompt, completion, price),
        price=price,
    )
