"""The legal reader's logic (issue 17): glossary matching, the page-break plan, quotes checked
on their page, facts by pattern, the cost estimate, and the LLM prompts and retries they make."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pagewise.documents.citations import (
    KeyFact,
    OverviewSentence,
    checked_summary,
    cite,
    overview_text,
    pattern_facts,
    quote_score,
)
from pagewise.documents.continuation import plan_pages
from pagewise.documents.cost import ModelPrice, estimate_job
from pagewise.documents.glossary import (
    MAX_ENTRIES,
    GlossaryEntry,
    GlossaryInvalid,
    GlossaryTooLarge,
    check_applied,
    entries_on_page,
    find_term,
    parse_glossary,
)
from pagewise.documents.llm import LlmConfig, LlmTranslator
from pagewise.documents.ocr import extract_page
from pagewise.documents.translate import translate_offline

from tests.support.fake_openai import FakeOpenAI

DEMO = Path(__file__).resolve().parents[3] / "samples" / "contrato-2-paginas.pdf"
LESSEE = GlossaryEntry(source="arrendatario", target="lessee")
LANDLORD = GlossaryEntry(source="arrendador", target="landlord")
DEPOSIT = GlossaryEntry(source="fianza legal", target="statutory deposit", note="LAU art. 36")


# --- glossary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("arrendatario", "Los ARRENDATARIOS pagarán", True),  # case, plural
        ("arrendatario", "la arrendataria pagará", True),  # gender
        ("arrendatario", "el arrendamiento", False),  # same root, another word
        ("Arrendatário", "el arrendatario", True),  # accents folded on both sides
        ("fianza legal", "en concepto de Fianza  Legal.", True),  # several words, spacing
        ("fianza legal", "la fianza es legal", False),  # not consecutive
        ("Verträge", "die Vertrage und", True),
        ("Mieter", "die Miete", False),  # a stem too short is not cut
        ("lessee", "the lessees shall", True),
        ("renta", "rentabilidad", False),  # too many letters past the stem
    ],
)
def test_terms_are_found_in_their_inflected_forms(term: str, text: str, found: bool) -> None:
    assert bool(find_term(term, text)) is found


def test_a_page_gets_only_the_entries_whose_source_terms_it_has() -> None:
    entries = [LESSEE, LANDLORD, DEPOSIT]
    assert entries_on_page(entries, "El arrendador cede la vivienda.") == [LANDLORD]
    assert entries_on_page(entries, "Nada que ver.") == []


def test_applied_and_missed_are_read_from_the_translation() -> None:
    applied, missed = check_applied([LESSEE, DEPOSIT], "The lessees pay the statutory deposit.")
    assert (applied, missed) == ([LESSEE, DEPOSIT], [])
    applied, missed = check_applied([LESSEE, DEPOSIT], "The tenant pays the statutory deposit.")
    assert (applied, missed) == ([DEPOSIT], [LESSEE])


def test_glossaries_parse_from_csv_and_json() -> None:
    csv_body = "source,target,note\narrendatario,lessee,\nfianza legal,statutory deposit,LAU\n"
    glossary = parse_glossary("lease", csv_body.encode(), "text/csv", source_language="es")
    assert glossary.source_language == "es"
    assert [(e.source, e.target, e.note) for e in glossary.entries] == [
        ("arrendatario", "lessee", None),
        ("fianza legal", "statutory deposit", "LAU"),
    ]
    body = {"source_language": "es", "entries": [{"source": "arrendador", "target": "landlord"}]}
    glossary = parse_glossary("lease", json.dumps(body).encode(), "application/json")
    assert glossary.entries == [LANDLORD]
    headerless = parse_glossary("x", b"arrendador,landlord\n", "text/csv")
    assert headerless.entries == [LANDLORD]


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"not json", "application/json", GlossaryInvalid),
        (b'{"entries": []}', "application/json", GlossaryInvalid),
        (b"arrendador\n", "text/csv", GlossaryInvalid),  # no target
        (b"a,b\nA,c\n", "text/csv", GlossaryInvalid),  # the same source term twice
        (b"\xff\xfe", "text/csv", GlossaryInvalid),
        (("x" * 201 + ",y\n").encode(), "text/csv", GlossaryTooLarge),
        (
            "".join(f"t{n},u{n}\n" for n in range(MAX_ENTRIES + 1)).encode(),
            "text/csv",
            GlossaryTooLarge,
        ),
        (b"a,b\n" + b" " * 300_000, "text/csv", GlossaryTooLarge),
    ],
)
def test_bad_or_oversized_glossaries_are_refused(
    body: bytes, content_type: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_glossary("x", body, content_type)


def test_the_offline_gist_uses_the_glossary_terms_and_says_so() -> None:
    if shutil.which("apertium") is None:
        pytest.fail("apertium is not installed: run make setup (scripts/install-system-deps.sh)")
    page = "El arrendatario entrega la fianza legal al arrendador."
    plain = translate_offline(page, "es")
    gist = translate_offline(page, "es", glossary=[LESSEE, LANDLORD, DEPOSIT])
    assert gist.provider == "apertium"
    assert "lessee" not in plain.legal_english  # Apertium alone does not know them
    for target in ("lessee", "landlord", "statutory deposit"):
        assert target in gist.legal_english, gist.legal_english
    assert "Glossary terms applied: arrendatario → lessee" in gist.note
    assert set(gist.glossary_applied) == {LESSEE, LANDLORD, DEPOSIT}


def test_without_apertium_the_source_text_carries_the_terms_in_brackets() -> None:
    page = translate_offline("El arrendatario paga.", "es", apertium_cmd=None, glossary=[LESSEE])
    assert page.legal_english == "El arrendatario [lessee] paga."
    assert "Glossary terms applied" in page.note


# --- page breaks ----------------------------------------------------------------------------

PAGE_1 = (
    "Página 1 de 2\nPrimera. El arrendatario pagará la renta mensual de ochocientos\n"
    "euros dentro de los cinco primeros\n\n1\n"
)
PAGE_2 = "días de cada mes, por transferencia. Segunda. La duración es de un año.\n"


def test_a_sentence_across_the_break_goes_whole_with_the_page_it_starts_on() -> None:
    first, second = plan_pages([PAGE_1, PAGE_2])
    assert first.completion == "días de cada mes, por transferencia."
    assert first.text.endswith("cinco primeros días de cada mes, por transferencia.")
    assert "\n1\n" not in first.text  # the page number between the halves is left out
    assert second.continuation == "días de cada mes, por transferencia."
    assert second.continues_previous
    assert second.text.startswith("Segunda.")
    assert "días de cada mes" not in second.text


def test_a_word_hyphenated_across_the_break_is_joined() -> None:
    first, second = plan_pages(["El arren-\n", "datario paga la renta. Y más."])
    assert first.text == "El arrendatario paga la renta."
    assert second.text == "Y más."


@pytest.mark.parametrize(
    "pages",
    [
        ["Fin de la cláusula.\n", "días de cada mes. Otra."],  # page 1 ends a sentence
        ["sin punto final\n", "SEGUNDA PARTE\nTexto."],  # page 2 starts with a heading
        ["sin punto final\n", "2. Segundo punto."],  # ... or a numbered item
        ["sin punto final\n", "Cuarta. Duración. Un año."],  # ... or a clause title
        ["sin punto final\n", "una página entera sin fin de frase"],  # never a whole page
    ],
)
def test_no_continuation_where_the_page_break_is_a_real_break(pages: list[str]) -> None:
    plans = plan_pages(pages)
    assert [plan.continuation for plan in plans] == ["", ""]
    assert [plan.text for plan in plans] == pages


@pytest.fixture(scope="module")
def demo_pages() -> dict[int, str]:
    """The demo lease as the pipeline reads it: page 1's text layer, page 2 by Tesseract."""
    data = DEMO.read_bytes()
    return {page: extract_page(data, page, source_language="es").text for page in (1, 2)}


# --- citations and facts --------------------------------------------------------------------

SOURCE = {
    1: "La renta mensual es de ochocientos euros (800 €), pagadera por meses\nanticipados.",
    2: "Para cualquier controversia, las partes se someten a los juzgados de Madrid.",
}


def test_a_quote_is_found_on_its_page_despite_case_accents_and_line_breaks() -> None:
    assert quote_score("pagadera por meses anticipados", SOURCE[1]) == 1.0
    assert quote_score("LA RENTA MENSUAL ES DE OCHOCIENTOS EUROS", SOURCE[1]) == 1.0
    assert quote_score("la renta mensal es de ochocientos euros", SOURCE[1]) >= 0.9  # OCR slip
    assert quote_score("las partes se someten a los juzgados de Barcelona", SOURCE[2]) < 0.9


def test_a_fact_whose_quote_is_not_on_its_cited_page_is_not_verified() -> None:
    facts = [
        KeyFact(
            category="amounts", text="800 € a month", page=1, quote="ochocientos euros (800 €)"
        ),
        # True on page 2, cited as page 1.
        KeyFact(category="jurisdiction", text="Madrid", page=1, quote="juzgados de Madrid"),
        KeyFact(category="parties", text="too short to prove", page=2, quote="Madrid"),
        KeyFact(category="dates", text="no such page", page=7, quote="ochocientos euros"),
    ]
    overview = [OverviewSentence(text="A lease.", pages=[1, 2, 9])]
    cited = checked_summary(overview, facts, SOURCE, "label")
    assert [fact.verified for fact in cited.facts] == [True, False, False, False]
    assert (cited.facts_verified, cited.facts_unverified) == (1, 3)
    assert [fact.text for fact in cited.shown_facts] == ["800 € a month"]
    assert cited.overview[0].pages == [1, 2]  # page 9 does not exist
    assert overview_text(cited.overview) == "A lease. (pp. 1, 2)"
    assert cite([3]) == "p. 3"


def test_pattern_facts_on_the_demo_contract_cite_the_right_pages(
    demo_pages: dict[int, str],
) -> None:
    facts = pattern_facts(demo_pages)
    cited = checked_summary([], facts, demo_pages, "pattern")
    assert cited.facts_unverified == 0
    found = {(fact.category, fact.page) for fact in cited.facts}
    assert {
        ("parties", 1),
        ("dates", 1),  # 3 de marzo de 2025
        ("amounts", 1),  # 800 €
        ("governing_law", 1),  # se regirá por la Ley 29/1994
        ("dates", 2),  # treinta días de antelación
        ("jurisdiction", 2),  # se someten a los juzgados de Madrid
    } <= found, found
    amounts = [fact for fact in facts if fact.category == "amounts"]
    assert amounts[0].text == "800 €" and amounts[0].method == "pattern"
    jurisdiction = next(fact for fact in facts if fact.category == "jurisdiction")
    assert "juzgados de Madrid" in jurisdiction.quote


@pytest.mark.parametrize(
    ("text", "category", "value"),
    [
        ("Ce contrat est régi par le droit français.", "governing_law", None),
        ("Dieser Vertrag unterliegt dem deutschen Recht.", "governing_law", None),
        ("Il presente contratto è regolato dalla legge italiana.", "governing_law", None),
        ("Este contrato será regido pela lei portuguesa.", "governing_law", None),
        ("This Agreement shall be governed by the laws of England.", "governing_law", None),
        ("Le loyer est de 1.200,50 EUR par mois.", "amounts", "1.200,50 EUR"),
        ("The fee is $2,500 per year.", "amounts", "$2,500"),
        ("Signé à Paris, le 5 mars 2024, en deux exemplaires.", "dates", "5 mars 2024"),
        ("Made on March 3, 2025 in London by the parties.", "dates", "March 3, 2025"),
    ],
)
def test_patterns_cover_the_shipped_languages(text: str, category: str, value: str | None) -> None:
    facts = [fact for fact in pattern_facts({1: text}) if fact.category == category]
    assert facts, (text, category)
    if value is not None:
        assert facts[0].text == value


# --- cost -------------------------------------------------------------------------------------


def test_the_estimate_counts_every_call_and_prices_it() -> None:
    texts = ["a" * 3000, "", "b" * 300]
    price = ModelPrice(input=1.0, output=2.0)
    estimate = estimate_job(texts, model="m", prices={"m": price})
    # Two pages with text, each also block by block (the overlay), and the summary.
    assert estimate.llm_calls == 5
    assert estimate_job(texts, model="m", prices={"m": price}, per_block=False).llm_calls == 3
    assert estimate.prompt_tokens > 1100 and estimate.completion_tokens > 2 * 1100
    expected = (estimate.prompt_tokens * 1.0 + estimate.completion_tokens * 2.0) / 1e6
    assert estimate.cost == pytest.approx(expected)
    longer = estimate_job(texts, model="m", prices={"m": price}, extra_prompt_per_page=["x" * 900])
    assert longer.prompt_tokens == estimate.prompt_tokens + 300  # the glossary lines count
    blocks = estimate_job(
        texts, model="m", prices={"m": price}, extra_block_prompt_per_page=["x" * 900]
    )
    assert blocks.prompt_tokens == estimate.prompt_tokens + 300  # in the blocks' prompt too
    assert estimate_job(texts, model="other", prices={"m": price}).cost is None
    offline = estimate_job(texts, model=None, prices={})
    assert (offline.llm_calls, offline.cost) == (0, 0.0)


# --- the LLM's prompts, checks and retries ---------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _translator(fake: FakeOpenAI) -> LlmTranslator:
    return LlmTranslator(LlmConfig(model="fake-model", base_url=fake.base_url, max_retries=0))


def _prompt(request: dict[str, object]) -> str:
    body = request["body"]
    assert isinstance(body, dict)
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def test_the_prompt_carries_the_glossary_and_the_answer_is_checked(fake: FakeOpenAI) -> None:
    page = _translator(fake).translate_page(
        "El arrendatario paga.", source_language="es", page_number=1, glossary=[LESSEE]
    )
    assert len(fake.requests) == 1
    assert "- arrendatario → lessee" in _prompt(fake.requests[0])
    assert "lessee" in page.legal_english
    assert (page.glossary_applied, page.glossary_missed) == ((LESSEE,), ())


def test_a_missed_term_gets_one_corrective_retry(fake: FakeOpenAI) -> None:
    fake.control({"miss_glossary": {"arrendatario": 1}})
    page = _translator(fake).translate_page(
        "El arrendatario paga.", source_language="es", page_number=1, glossary=[LESSEE]
    )
    assert len(fake.requests) == 2
    assert 'did not use these glossary terms: "arrendatario" → "lessee"' in _prompt(
        fake.requests[1]
    )
    assert (page.glossary_applied, page.glossary_missed) == ((LESSEE,), ())
    assert page.prompt_tokens > 0 and page.completion_tokens > 0


def test_a_term_still_missed_after_the_retry_is_reported(fake: FakeOpenAI) -> None:
    fake.control({"miss_glossary": ["arrendatario"]})
    page = _translator(fake).translate_page(
        "El arrendatario paga.", source_language="es", page_number=1, glossary=[LESSEE]
    )
    assert len(fake.requests) == 2  # one retry, never more
    assert (page.glossary_applied, page.glossary_missed) == ((), (LESSEE,))


def test_the_prompt_says_where_a_sentence_crosses_the_break(fake: FakeOpenAI) -> None:
    first, second = plan_pages([PAGE_1, PAGE_2])
    translator = _translator(fake)
    translator.translate_page(
        first.text, source_language="es", page_number=1, completion=first.completion
    )
    translator.translate_page(
        second.text, source_language="es", page_number=2, continues_previous=True
    )
    one, two = (_prompt(request) for request in fake.requests)
    assert "ends on page 2" in one and "días de cada mes, por transferencia." in one
    assert "begun on page 1" in two and "días de cada mes" not in two


def test_a_document_too_long_for_one_call_is_summarised_part_by_part(fake: FakeOpenAI) -> None:
    # ~400 estimated tokens a page and 600 a call: each page is a part of its own.
    pages = [
        (n, f"Marker{n} " + "The tenant pays the rent on time every month. " * 26)
        for n in (1, 2, 3)
    ]
    small = LlmConfig(
        model="fake-model",
        base_url=fake.base_url,
        max_retries=0,
        max_context_tokens=1000,
        summary_output_tokens=100,
    )

    answer = LlmTranslator(small).cited_summary(pages)

    assert answer.calls == len(fake.requests) == 3
    prompts = [_prompt(request) for request in fake.requests]
    for n, prompt in enumerate(prompts, start=1):
        assert f"part {n} of 3 (page {n})" in prompt and f"Marker{n}" in prompt
    # The parts' overviews and facts, put together in page order.
    assert [s.pages for s in answer.overview] == [[1], [2], [3]]
    assert [f.page for f in answer.facts if f.category == "dates"] == [1, 2, 3]


def test_the_cited_summary_asks_for_pages_and_quotes(fake: FakeOpenAI) -> None:
    answer = _translator(fake).cited_summary(sorted(SOURCE.items()))
    assert answer.calls == 1
    body = fake.requests[0]["body"]
    assert isinstance(body, dict)
    assert body["response_format"]["json_schema"]["name"] == "cited_summary"
    assert "[Page 1]" in _prompt(fake.requests[0]) and "[Page 2]" in _prompt(fake.requests[0])
    assert [s.pages for s in answer.overview] == [[1], [2]]
    cited = checked_summary(answer.overview, answer.facts, SOURCE)
    # The fake returns one fact per page with a true quote, and one cited on the wrong page.
    assert (cited.facts_verified, cited.facts_unverified) == (2, 1)
    wrong = next(fact for fact in cited.facts if not fact.verified)
    assert wrong.page == 1 and wrong.quote in " ".join(SOURCE[2].split())
