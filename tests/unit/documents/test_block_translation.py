"""Per-block translation for the overlay: the real openai client against the local fake server,
and Debian's Apertium offline; with a glossary, both use its English terms (issue 17)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pagewise.documents import block_translation
from pagewise.documents.block_translation import (
    BLOCKS_SCHEMA_NAME,
    BlockTranslations,
    translate_blocks,
    translate_blocks_offline,
)
from pagewise.documents.glossary import GlossaryEntry
from pagewise.documents.layout import PageLayout
from pagewise.documents.llm import LlmBadRequest, LlmConfig, LlmTranslator
from pagewise.documents.translate import APERTIUM_NOTE, OFFLINE_NOTE

from tests.support.fake_openai import FakeOpenAI
from tests.unit.builders import a_layout

TEXTS = [
    "CONTRATO DE ARRENDAMIENTO",
    "Primera. El arrendador cede al arrendatario el uso de la vivienda.",
    "Segunda. La renta mensual es de ochocientos euros.",
]
LESSEE = GlossaryEntry(source="arrendatario", target="lessee")
LANDLORD = GlossaryEntry(source="arrendador", target="landlord")
DEPOSIT = GlossaryEntry(source="fianza", target="security deposit")  # not on the page


def _layout() -> PageLayout:
    return a_layout(*TEXTS, page=3)


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


# --- the glossary (issue 17) ------------------------------------------------------------------


def test_the_prompt_carries_only_the_glossary_terms_in_the_blocks_and_they_are_used(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    result = translate_blocks(
        translator, _layout(), source_language="es", glossary=[DEPOSIT, LESSEE, LANDLORD]
    )

    (request,) = server.requests
    prompt = request["body"]["messages"][1]["content"]
    assert "- arrendatario → lessee\n- arrendador → landlord" in prompt
    assert 'that block\'s "legal_english"' in prompt
    assert "fianza" not in prompt and "security deposit" not in prompt
    assert (
        result.blocks["b2"]
        == "LEGAL EN: Primera. El landlord cede al lessee el uso de la vivienda."
    )
    assert result.glossary_applied == [
        {"source": "arrendatario", "target": "lessee"},
        {"source": "arrendador", "target": "landlord"},
    ]
    assert result.glossary_missed == []


def test_no_glossary_term_in_the_blocks_means_no_glossary_in_the_prompt(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    result = translate_blocks(translator, _layout(), source_language="es", glossary=[DEPOSIT])

    (request,) = server.requests
    assert "Glossary" not in request["body"]["messages"][1]["content"]
    assert (result.glossary_applied, result.glossary_missed) == ([], [])


def test_a_missed_glossary_term_gets_one_corrective_retry(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    server.control({"miss_glossary": {"arrendatario": 1}})

    result = translate_blocks(translator, _layout(), source_language="es", glossary=[LESSEE])

    first, retry = server.requests
    assert "- arrendatario → lessee" in first["body"]["messages"][1]["content"]
    correction = retry["body"]["messages"][-1]["content"]
    assert 'did not use these glossary terms: "arrendatario" → "lessee"' in correction
    assert "with every block" in correction
    assert "lessee" in result.blocks["b2"]
    assert result.glossary_applied == [{"source": "arrendatario", "target": "lessee"}]
    assert result.glossary_missed == []
    assert result.prompt_tokens > 0 and result.completion_tokens > 0


def test_a_glossary_term_still_missed_after_the_retry_is_recorded(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    server.control({"miss_glossary": ["arrendatario"]})

    result = translate_blocks(translator, _layout(), source_language="es", glossary=[LESSEE])

    assert len(server.requests) == 2  # one retry, never more
    assert "arrendatario" in result.blocks["b2"]
    assert result.glossary_applied == []
    assert result.glossary_missed == [{"source": "arrendatario", "target": "lessee"}]


def test_an_unusable_glossary_retry_keeps_the_first_answer(
    server: FakeOpenAI, translator: LlmTranslator
) -> None:
    server.control({"miss_glossary": {"arrendatario": 1}})
    server.fail_next({}, _answer({"b1": "only one block"}))  # the first answer as usual

    result = translate_blocks(translator, _layout(), source_language="es", glossary=[LESSEE])

    assert len(server.requests) == 2
    assert set(result.blocks) == {"b1", "b2", "b3"}
    assert result.glossary_missed == [{"source": "arrendatario", "target": "lessee"}]


def test_offline_the_gist_of_each_block_uses_the_glossary_terms() -> None:
    result = translate_blocks_offline(_layout(), "es", glossary=[LESSEE, LANDLORD, DEPOSIT])

    assert result.provider == "apertium"
    assert "lessee" in result.blocks["b2"] and "landlord" in result.blocks["b2"]
    assert "arrendatario" not in result.blocks["b2"] and "Qqglos" not in result.blocks["b2"]
    assert result.blocks["b3"].startswith("Second.")  # the blocks stay apart
    assert result.note == f"{APERTIUM_NOTE} Glossary terms applied: 2."
    assert result.glossary_applied == [
        {"source": "arrendador", "target": "landlord"},
        {"source": "arrendatario", "target": "lessee"},
    ]


def test_offline_block_by_block_the_gist_uses_the_glossary_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = block_translation.apertium_gist
    runs: list[str] = []

    def one_block_at_a_time(text: str, pair: str, **options: object) -> str | None:
        runs.append(text)
        if "\n\n" in text:
            return None  # the page's one run fails: each block goes on its own
        return real(text, pair, apertium_cmd="apertium")

    monkeypatch.setattr(block_translation, "apertium_gist", one_block_at_a_time)

    result = translate_blocks_offline(_layout(), "es", glossary=[LESSEE])

    assert len(runs) == 1 + len(TEXTS)
    assert "lessee" in result.blocks["b2"] and "arrendatario" not in result.blocks["b2"]
    assert "Qqglos" not in result.blocks["b2"]


def test_offline_without_a_pair_the_glossary_term_follows_the_source_term() -> None:
    result = translate_blocks_offline(_layout(), "de", glossary=[LESSEE])

    assert result.blocks["b2"] == (
        "Primera. El arrendador cede al arrendatario [lessee] el uso de la vivienda."
    )
    assert result.blocks["b1"] == TEXTS[0]
    assert result.note == f"{OFFLINE_NOTE} Glossary terms applied: 1."


def test_block_translations_stored_before_the_glossary_still_load() -> None:
    stored = {"page": 1, "blocks": {"b1": "x"}, "provider": "offline", "translated": False}

    loaded = BlockTranslations.model_validate_json(json.dumps(stored))

    assert (loaded.glossary_applied, loaded.glossary_missed) == ([], [])
