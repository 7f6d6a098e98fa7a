from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pagewise.documents.summary import extractive_summary
from pagewise.documents.translate import PageTranslation, translate_offline

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
