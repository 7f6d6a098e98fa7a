from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pagewise.documents.summary import SummaryResult, extractive_summary, summarise_offline
from pagewise.documents.translate import (
    APERTIUM_NOTE,
    ENGLISH_SOURCE_NOTE,
    OFFLINE_NOTE,
    PageTranslation,
    apertium_pair,
    normalise_language,
    translate_offline,
)

from tests.support.tools import installed

REPO = Path(__file__).resolve().parents[3]


def test_offline_translation_is_labelled_source_text():
    result = translate_offline("El arrendatario pagará la renta.")
    assert result == PageTranslation(
        legal_english="El arrendatario pagará la renta.",
        plain_english="El arrendatario pagará la renta.",
        provider="offline",
        model=None,
        translated=False,
        note="Not translated: no LLM is configured; this is the source text.",
    )
    assert (result.prompt_tokens, result.completion_tokens) == (0, 0)


def test_offline_translation_of_blank_text():
    result = translate_offline("  \n ")
    assert (result.legal_english, result.plain_english) == ("", "")
    assert result.translated is False
    assert result.note.startswith("Not translated")


def test_summary_of_nothing_is_empty():
    assert extractive_summary([]) == ""
    assert extractive_summary(["", "   "]) == ""


def test_summary_picks_central_sentences_in_order():
    pages = [
        "The tenant shall pay the rent to the landlord every month. The weather was pleasant.",
        "The landlord may increase the rent once a year. Birds sang outside the window today.",
        "If the tenant fails to pay the rent, the landlord may terminate the lease.",
    ]
    summary = extractive_summary(pages, max_sentences=3)
    assert summary == (
        "The tenant shall pay the rent to the landlord every month. "
        "The landlord may increase the rent once a year. "
        "If the tenant fails to pay the rent, the landlord may terminate the lease."
    )
    assert extractive_summary(pages, max_sentences=3) == summary  # deterministic


def test_summary_respects_limits():
    pages = [
        f"Sentence number {n} talks about the contract and the parties. " * 1 for n in range(50)
    ]
    assert len(extractive_summary(pages, max_sentences=2).split(". ")) <= 2
    assert len(extractive_summary(pages, max_chars=100)) <= 100
    long_sentence = "contract " * 400 + "ends here."
    assert len(extractive_summary([long_sentence], max_chars=200)) <= 200


def test_light_modules_do_not_import_document_libraries():
    # The API function imports these and must not pay PyMuPDF's/reportlab's import cost.
    code = (
        "import sys\n"
        "import pagewise.documents, pagewise.documents.errors, pagewise.documents.kinds\n"
        "import pagewise.documents.translate, pagewise.documents.summary\n"
        "heavy = {'pymupdf', 'fitz', 'reportlab', 'PIL'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers" / "common")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_offline_summary_result_is_labelled():
    result = summarise_offline(["The tenant shall pay the rent to the landlord every month."])
    assert result == SummaryResult(
        text="The tenant shall pay the rent to the landlord every month.",
        method="extractive",
        provider="offline",
        model=None,
        note="Extractive summary (sentences taken from the source text; no LLM).",
    )


# --- language codes and the Apertium gist ----------------------------------------------------

SPANISH = "El arrendatario pagará la renta cada mes según el contrato."

needs_apertium = installed(
    lambda: apertium_pair("es") is not None, "Apertium with its Spanish-English pair"
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("es", "spa"),
        ("spa", "spa"),
        ("SPA", "spa"),
        ("es-ES", "spa"),
        ("spa+eng", "spa"),
        ("eng+spa", "spa"),
        ("osd+cat", "cat"),
        ("Spanish", "spa"),
        ("srp_latn", "hbs"),
        ("hr", "hbs"),
        ("eu", "eus"),
        ("en", "eng"),
        ("eng", "eng"),
        ("de", "deu"),
        ("deu", "deu"),
        ("", None),
        (None, None),
    ],
)
def test_language_codes_are_normalised(code, expected):
    assert normalise_language(code) == expected


@needs_apertium
@pytest.mark.parametrize("code", ["es", "spa", "spa+eng", "es-ES"])
def test_spanish_page_gets_a_labelled_apertium_gist(code):
    result = translate_offline(SPANISH, code)
    assert (result.provider, result.model, result.translated) == ("apertium", "spa-eng", False)
    assert result.note == APERTIUM_NOTE
    assert "not a legal translation" in result.note
    assert result.legal_english == result.plain_english
    words = set(result.plain_english.casefold().replace(".", " ").split())
    assert {"the", "will", "pay", "month", "according"} <= words, result.plain_english
    assert "pagará" not in result.plain_english


@needs_apertium
def test_apertium_keeps_lines_and_odd_characters():
    text = "Artículo 5. [nota] ^$ \\ a/b <x>\n\nSegunda línea del contrato."
    gist = translate_offline(text, "es").plain_english
    assert "[Note] ^$" in gist or "[note] ^$" in gist
    assert "\n\nSecond line of the" in gist


def test_language_without_an_apertium_pair_is_source_text():
    result = translate_offline("Der Mieter zahlt die Miete.", "de")
    assert (result.provider, result.translated, result.note) == ("offline", False, OFFLINE_NOTE)
    assert result.plain_english == "Der Mieter zahlt die Miete."


def test_english_source_is_labelled_as_such():
    result = translate_offline("The tenant pays the rent.", "eng")
    assert (result.provider, result.translated) == ("offline", False)
    assert result.note == ENGLISH_SOURCE_NOTE
    assert result.plain_english == "The tenant pays the rent."


def test_blank_page_never_runs_apertium(tmp_path):
    marker = tmp_path / "ran"
    script = fake_apertium(tmp_path, f"touch {marker}; cat")
    result = translate_offline("  \n", "es", apertium_cmd=str(script))
    assert (result.plain_english, result.provider) == ("", "offline")
    assert not marker.exists()


@pytest.mark.parametrize("command", ["/nonexistent/apertium", None])
def test_missing_or_disabled_apertium_falls_back_to_source_text(command):
    result = translate_offline(SPANISH, "es", apertium_cmd=command)
    assert (result.provider, result.plain_english, result.note) == (
        "offline",
        SPANISH,
        OFFLINE_NOTE,
    )


def fake_apertium(tmp_path: Path, body: str) -> Path:
    """An ``apertium`` that lists spa-eng and then runs ``body`` on the text."""
    script = tmp_path / "apertium"
    script.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then echo "  spa-eng"; exit 0; fi\n{body}\n')
    script.chmod(0o755)
    return script


def test_failing_apertium_falls_back_to_source_text(tmp_path):
    script = fake_apertium(tmp_path, "echo broken >&2; exit 3")
    result = translate_offline(SPANISH, "es", apertium_cmd=str(script))
    assert (result.provider, result.plain_english) == ("offline", SPANISH)


def test_slow_apertium_is_killed_with_its_pipeline(tmp_path):
    # Like the real apertium: a shell running a pipeline whose children hold the pipes open.
    script = fake_apertium(tmp_path, "sleep 5 | cat")
    started = time.monotonic()
    result = translate_offline(
        SPANISH, "es", apertium_cmd=str(script), apertium_timeout_seconds=0.3
    )
    assert time.monotonic() - started < 3
    assert (result.provider, result.plain_english) == ("offline", SPANISH)


def test_fake_apertium_gist_is_used(tmp_path):
    script = fake_apertium(tmp_path, "tr a-z A-Z")
    result = translate_offline("hola", "es", apertium_cmd=str(script))
    assert (result.provider, result.model, result.plain_english) == ("apertium", "spa-eng", "HOLA")
