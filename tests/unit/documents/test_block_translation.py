"""Per-block translation for the overlay: the real openai client against the local fake server,
and Debian's Apertium offline."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pagewise.documents.block_translation import (
    BLOCKS_SCHEMA_NAME,
    translate_blocks,
    translate_blocks_offline,
)
from pagewise.documents.layout import Block, Box, Line, PageLayout, Word
from pagewise.documents.llm import LlmBadRequest, LlmConfig, LlmTranslator
from pagewise.documents.translate import APERTIUM_NOTE, OFFLINE_NOTE

from tests.support.fake_openai import FakeOpenAI

TEXTS = [
    "CONTRATO DE ARRENDAMIENTO",
    "Primera. El arrendador cede al arrendatario el uso de la vivienda.",
    "Segunda. La renta mensual es de ochocientos euros.",
]


def _layout() -> PageLayout:
    blocks = []
    for index, text in enumerate(TEXTS, start=1):
        box = Box(x0=60, y0=60 * index, x1=500, y1=60 * index + 40)
        line = Line(box=box, words=[Word(text=word, box=box) for word in text.split()])
        blocks.append(Block(id=f"b{index}", box=box, lines=[line]))
    return PageLayout(page=3, width=595, height=842, source="text_layer", blocks=blocks)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def translator(server: FakeOpenAI) -> Iterator[LlmTranslator]:
    server.reset()
    config = LlmConfig(model="fake-model", base_url=server.base_url, max_retries=0)
    with LlmTranslator(config) as translator:
        yield translator


def _answer(blocks: dict[str, str]) -> dict[str, str]:
    items = [{"id": key, "legal_english": text} for key, text in blocks.items()]
    return {"content": json.dumps({"blocks": items})}


def test_every_block_comes_back_by_id_with_the_page_as_context(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    result = translate_blocks(translator, _layout(), source_language="es")

    assert result.blocks == {f"b{i}": f"LEGAL EN: {t}" for i, t in enumerate(TEXTS, start=1)}
    assert result.translated and result.page == 3 and result.prompt_tokens > 0
    (request,) = server.requests
    body = request["body"]
    assert body["response_format"]["json_schema"]["name"] == BLOCKS_SCHEMA_NAME
    assert body["response_format"]["json_schema"]["strict"] is True
    prompt = body["messages"][1]["content"]
    assert all(text in prompt for text in TEXTS)  # one call: each block sees the others


def test_a_lost_block_gets_one_corrective_retry(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    server.fail_next(_answer({"b1": "LEASE", "b2": "First."}))

    result = translate_blocks(translator, _layout(), source_language="es")

    assert set(result.blocks) == {"b1", "b2", "b3"}
    _first, retry = server.requests
    correction = retry["body"]["messages"][-1]["content"]
    assert "blocks missing: b3" in correction and "b1, b2, b3" in correction


@pytest.mark.parametrize(
    "bad",
    [
        {"b1": "A", "b2": "B", "b3": "C", "b9": "invented"},
        {"b1": "A", "b2": "B"},
    ],
)
def test_blocks_invented_or_lost_twice_fail_the_page(
    server: FakeOpenAI, translator: LlmTranslator, bad: dict[str, str]
) -> None:
    server.fail_next(_answer(bad), _answer(bad))

    with pytest.raises(LlmBadRequest) as raised:
        translate_blocks(translator, _layout(), source_language="es")

    assert raised.value.error_code == "llm_invalid_output"
    assert len(server.requests) == 2


def test_offline_each_block_is_its_apertium_gist_labelled() -> None:
    result = translate_blocks_offline(_layout(), "es")

    assert result.provider == "apertium" and not result.translated
    assert result.note == APERTIUM_NOTE
    assert set(result.blocks) == {"b1", "b2", "b3"}
    # Each block is its own gist, in English, in its own place.
    assert result.blocks["b1"].lower().count("lease") == 1
    assert result.blocks["b2"].startswith("First.") and "house" in result.blocks["b2"]
    assert result.blocks["b3"].startswith("Second.")
    assert "eight hundred euros" in result.blocks["b3"]


def test_offline_without_a_pair_each_block_keeps_its_source_text() -> None:
    result = translate_blocks_offline(_layout(), "de")

    assert result.blocks == {f"b{i}": t for i, t in enumerate(TEXTS, start=1)}
    assert result.note == OFFLINE_NOTE and not result.translated
