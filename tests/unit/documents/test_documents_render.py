"""The translated PDF: content and order, fonts, running header, layouts, and report_text."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
from pagewise.documents import render
from pagewise.documents.render import (
    LEGAL_HEADING,
    NOT_TRANSLATED_HEADING,
    PLAIN_HEADING,
    DocumentMeta,
    RenderPage,
    page_sections,
    render_pdf,
    report_text,
)
from pagewise.documents.render import fonts as render_fonts

from tests.support.tools import commands, file_exists, installed

NOTE = "Not translated: no LLM is configured; this is the source text."
needs_dejavu = installed(
    file_exists(Path(render.SYSTEM_DEJAVU_DIR, "DejaVuSans.ttf")), "fonts-dejavu-core"
)
needs_poppler = installed(commands("pdftoppm", "pdftotext", "pdffonts"), "poppler-utils")

LEGAL_1 = (
    "The lessee, Señor Müller, shall keep the contraseña; acción <b>&amp; more</b> if a < b & c."
)
PLAIN_1 = "Greek: Σύμβαση μίσθωσης. Cyrillic: Договор аренды."
SOURCE_1 = "El arrendatario, el señor Müller, guardará la contraseña."
UNTRANSLATED = "Texto original sin traducir: acción y contraseña."


def _pages() -> list[RenderPage]:
    source_2 = "\n\n".join(f"Cláusula {n}: las partes acuerdan la cláusula." for n in range(90))
    legal_2 = "\n\n".join(f"Clause {n}: the parties agree to the clause." for n in range(90))
    return [
        RenderPage(
            page=1,
            source="ocr",
            language="es",
            source_text=SOURCE_1,
            legal_english=LEGAL_1,
            plain_english=PLAIN_1,
        ),
        RenderPage(
            page=2,
            source="text_layer",
            language="es",
            source_text=source_2,
            legal_english=legal_2,
            plain_english="Final plain text of page two.",
        ),
        RenderPage(
            page=3,
            source="ocr",
            language="es",
            source_text=UNTRANSLATED,
            legal_english=UNTRANSLATED,
            plain_english=UNTRANSLATED,
            note=NOTE,
            translated=False,
        ),
        RenderPage(page=4, source="blank", note=NOTE, translated=False),
    ]


def _meta(**overrides: object) -> DocumentMeta:
    fields: dict[str, object] = {
        "document_name": "contrato_arrendamiento.pdf",
        "generated_at": datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        "summary": "The lease runs for five years.",
        "summary_label": "LLM summary (map-reduce over pages)",
        "provider": "openai",
        "model": "gpt-4o-mini",
    }
    fields.update(overrides)
    return DocumentMeta(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def standard_pdf() -> bytes:
    # Pages given out of order: the PDF (and report_text) put them in page order.
    return render_pdf(_meta(), list(reversed(_pages())))


@pytest.fixture(scope="module")
def bilingual_pdf() -> bytes:
    return render_pdf(_meta(layout="bilingual"), _pages())


def _page_texts(pdf: bytes) -> list[str]:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return [page.get_text() for page in doc]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _assert_in_order(text: str, snippets: list[str]) -> None:
    position = 0
    for snippet in snippets:
        found = text.find(snippet, position)
        assert found >= 0, f"{snippet!r} missing or out of order"
        position = found + len(snippet)


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return done.stdout.decode("utf-8")


# --- content and order ----------------------------------------------------------------------


@needs_dejavu
@needs_poppler
def test_every_page_is_there_in_order_with_accents_greek_and_cyrillic(
    standard_pdf: bytes, tmp_path: Path
):
    text = _flat(_pdftotext(standard_pdf, tmp_path))
    _assert_in_order(
        text,
        [
            "Pagewise translation",
            "contrato_arrendamiento.pdf",
            "Spanish (es)",
            "English",
            "openai, model gpt-4o-mini",
            "LLM summary (map-reduce over pages)",
            "2025-01-02 03:04 UTC",
            "2 of 4 pages are not a translation",
            "Summary",
            "The lease runs for five years.",
            "Page 1",
            "Source: OCR of the page image · Language: Spanish (es)",
            LEGAL_HEADING,
            LEGAL_1,  # accents intact; markup-looking text is text
            PLAIN_HEADING,
            PLAIN_1,  # Greek and Cyrillic
            "Page 2",
            "Source: text layer of the PDF",
            "Clause 0:",
            "Clause 89:",
            "Final plain text of page two.",
            "Page 3",
            NOTE,
            NOT_TRANSLATED_HEADING,
            UNTRANSLATED,
            "Page 4",
            "blank page",
            "(no text on this page)",
        ],
    )
    # The standard layout shows the translation only, not the source text.
    assert SOURCE_1 not in text


def test_report_text_is_what_the_pdf_shows_in_the_same_order(standard_pdf: bytes):
    pdf_text = _flat("\n".join(_page_texts(standard_pdf)))
    report = report_text(_pages())
    lines = [line.removesuffix(":") for line in report.splitlines() if line.strip()]
    assert lines[0] == "Page 1"
    _assert_in_order(pdf_text, [_flat(line) for line in lines])
    _assert_in_order(report, ["Page 1", "Page 2", "Clause 0:", "Clause 89:", "Page 3", "Page 4"])


def test_report_text_format():
    pages = _pages()
    assert report_text([pages[2], pages[0]]) == (
        "Page 1\n"
        "\n"
        f"Legal English:\n{LEGAL_1}\n"
        "\n"
        f"Plain English:\n{PLAIN_1}\n"
        "\n\n"
        "Page 3\n"
        f"{NOTE}\n"
        "\n"
        f"Text shown (not a translation):\n{UNTRANSLATED}\n"
    )
    assert report_text([]) == ""


def test_sections_say_when_a_text_is_not_a_translation():
    gist = RenderPage(page=1, legal_english="gist a", plain_english="gist b", translated=False)
    assert [(s.kind, s.heading) for s in page_sections(gist)] == [
        ("legal", "Legal English (not a translation)"),
        ("plain", "Plain English (not a translation)"),
    ]
    same = RenderPage(page=1, legal_english="x", plain_english="x\n", translated=False)
    assert [s.kind for s in page_sections(same)] == ["not_translated"]
    real = RenderPage(page=1, legal_english="x", plain_english="x")
    assert [s.heading for s in page_sections(real)] == [LEGAL_HEADING, PLAIN_HEADING]


def test_untranslated_pages_are_labelled(standard_pdf: bytes):
    texts = _page_texts(standard_pdf)
    [page_3] = [t for t in texts if "Page 3\n" in t]
    assert NOTE in _flat(page_3)
    assert NOT_TRANSLATED_HEADING in page_3
    assert LEGAL_HEADING not in page_3 and PLAIN_HEADING not in page_3


# --- rendering ------------------------------------------------------------------------------


def _body_ink_per_page(pdf: bytes, tmp_path: Path) -> list[int]:
    """Dark pixels per PDF page at 50 dpi, in the body only: the running header and the
    footer are on every page, so they must not count as content."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", str(path), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    counts = []
    for image in sorted(tmp_path.glob("p-*.pgm")):
        pixmap = pymupdf.Pixmap(str(image))
        per_mm = pixmap.height / 297
        top, bottom = int(21 * per_mm), int((297 - 18) * per_mm)  # below header, above footer
        body = pixmap.samples[top * pixmap.stride : bottom * pixmap.stride]
        counts.append(sum(1 for value in body if value < 160))
    return counts


@needs_poppler
@pytest.mark.parametrize("layout", ["standard_pdf", "bilingual_pdf"])
def test_every_pdf_page_renders_with_ink(layout: str, request: pytest.FixtureRequest, tmp_path):
    pdf: bytes = request.getfixturevalue(layout)
    counts = _body_ink_per_page(pdf, tmp_path)
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        assert len(counts) == doc.page_count >= 5  # cover, 1, 2 (two PDF pages at least), 3, 4
    assert all(count > 300 for count in counts), counts


# --- fonts ----------------------------------------------------------------------------------


@needs_dejavu
@needs_poppler
def test_fonts_are_embedded_dejavu(bilingual_pdf: bytes, tmp_path: Path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(bilingual_pdf)
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = [line.split() for line in listing.stdout.splitlines()[2:]]
    names = {row[0].split("+")[-1] for row in rows}
    assert {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif"} <= names, names
    # columns: name type encoding emb sub uni object-id generation; TrueType is one word
    assert all(row[1] == "TrueType" and row[3] == "yes" for row in rows), listing.stdout
    assert not any("Helvetica" in name for name in names)


def _font_names(pdf: bytes) -> set[tuple[str, str]]:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        # get_fonts() rows: (xref, ext, type, basefont, name, encoding); ext "n/a" = not embedded
        return {(f[1], f[3]) for page in doc for f in page.get_fonts()}


def test_falls_back_to_bundled_vera_and_says_what_it_cannot_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(render_fonts, "SYSTEM_DEJAVU_DIR", str(tmp_path / "missing"))
    monkeypatch.setattr(render_fonts, "_packaged_font", lambda name: None)
    fonts = render.choose_fonts(str(tmp_path))
    assert (fonts.family, fonts.unicode) == ("Vera", False)
    assert fonts.missing_characters("Café Σ") == ["Σ"]
    pages = [RenderPage(page=1, legal_english="Café", plain_english="Σύμβαση")]
    pdf = render_pdf(_meta(), pages, font_dir=str(tmp_path))
    names = _font_names(pdf)
    assert names and all(ext == "ttf" and "Vera" in name for ext, name in names), names
    text = _flat("\n".join(_page_texts(pdf)))
    assert "Café" in text
    assert "The embedded font (Vera) has no glyphs for 7 characters" in text
    assert "U+03A3" in text  # Σ


def test_without_dejavu_noto_sans_from_pymupdf_fonts_shows_greek_and_cyrillic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # A Lambda has no system fonts: the documents layer's pymupdf-fonts package supplies them.
    monkeypatch.setattr(render_fonts, "SYSTEM_DEJAVU_DIR", str(tmp_path / "missing"))
    fonts = render.choose_fonts(None)
    assert (fonts.family, fonts.directory, fonts.unicode) == (
        "NotoSans",
        render.PACKAGED_FONTS,
        True,
    )
    assert fonts.missing_characters("Café Σύμβαση Договор") == []
    pages = [RenderPage(page=1, legal_english="Café Договор", plain_english="Σύμβαση")]
    pdf = render_pdf(_meta(), pages, font_dir=None)
    names = _font_names(pdf)
    assert names and all(ext == "ttf" and "Noto" in name for ext, name in names), names
    text = _flat("\n".join(_page_texts(pdf)))
    assert "Café Договор" in text and "Σύμβαση" in text
    assert "has no glyphs" not in text


@needs_dejavu
def test_font_dir_is_used_when_it_has_dejavu(tmp_path: Path):
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copy(Path(render.SYSTEM_DEJAVU_DIR, name), tmp_path / name)
    fonts = render.choose_fonts(str(tmp_path))
    assert (fonts.family, fonts.directory, fonts.unicode) == ("DejaVu", str(tmp_path), True)
    # No serif or oblique in that directory: those roles fall back to the sans faces.
    assert fonts.serif == fonts.regular and fonts.italic == fonts.regular
    pdf = render_pdf(_meta(), _pages()[:1], font_dir=str(tmp_path))
    assert {name.split("+")[-1] for _, name in _font_names(pdf)} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
    }


# --- running header, footer -----------------------------------------------------------------


def test_running_header_carries_the_source_page_number(standard_pdf: bytes):
    texts = _page_texts(standard_pdf)
    total = len(texts)
    assert "Source page" not in texts[0]  # the cover
    start = next(i for i, t in enumerate(texts) if "Clause 0:" in t)
    assert "Source page 2\n" in texts[start] and "(continued)" not in texts[start]
    continuation = texts[start + 1]
    assert "Source page 2 (continued)" in continuation
    assert "Clause 0:" not in continuation and "Clause 60:" in continuation
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text


# --- bilingual ------------------------------------------------------------------------------


def _same_row(page: pymupdf.Page, left: str, right: str) -> bool:
    [left_box] = page.search_for(left)
    [right_box] = page.search_for(right)
    middle = page.rect.width / 2
    return left_box.x1 < middle < right_box.x0 and abs(left_box.y0 - right_box.y0) < 2


def test_bilingual_puts_source_and_translation_side_by_side(bilingual_pdf: bytes):
    with pymupdf.open(stream=bilingual_pdf, filetype="pdf") as doc:
        pages = list(doc)
        first = next(p for p in pages if "Page 1\n" in p.get_text())
        assert "Source text (es)" in first.get_text()
        assert _same_row(first, "El arrendatario", "The lessee")
        # Page 2's 90 paragraphs flow over more than one PDF page, row by row, with the
        # column headings repeated and the header saying which source page continues.
        clause_pages = [p for p in pages if "Clause " in p.get_text()]
        assert len(clause_pages) >= 2
        later = clause_pages[1]
        later_text = later.get_text()
        assert "Source page 2 (continued)" in later_text and "Source text (es)" in later_text
        number = next(n for n in range(90) if f"Clause {n}:" in later_text)
        assert _same_row(later, f"Cláusula {number}:", f"Clause {number}:")
        # Plain English follows the table at full width.
        plain = next(p for p in pages if "Final plain text of page two." in p.get_text())
        [box] = plain.search_for("Final plain text of page two.")
        assert box.x0 < plain.rect.width / 2
    text = _flat("\n".join(_page_texts(bilingual_pdf)))
    _assert_in_order(text, [f"Cláusula {n}: las partes" for n in range(90)])
    _assert_in_order(text, [f"Clause {n}: the parties" for n in range(90)])
    # A page whose text is its source text is shown once, not side by side with itself.
    assert text.count(UNTRANSLATED) == 1


# --- robustness -----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["standard", "bilingual"])
def test_huge_page_and_unbroken_token_do_not_break_the_layout(layout: str):
    token = "https://example.org/" + "Q" * 4980  # 5,000 characters, no break opportunity
    words = " ".join(f"w{n:05d}" for n in range(5000))  # 30,000 characters
    pages = [
        RenderPage(
            page=1,
            source_text=f"{token}\n\n{words}",
            legal_english=f"Before {token} after.",
            plain_english=words,
        ),
        RenderPage(page=2, legal_english="Tail", plain_english="Tail plain."),
    ]
    pdf = render_pdf(_meta(layout=layout), pages)
    texts = _page_texts(pdf)
    assert len(texts) > 6
    flat = "".join("".join(texts).split())
    expected_q = 4980 * (2 if layout == "bilingual" else 1)  # the source column shows it too
    assert flat.count("Q") == expected_q
    _assert_in_order(flat, ["Before", "https://example.org/", "after.", "w00000", "w04999", "Tail"])
    assert all(f"w{n:05d}" in flat for n in range(0, 5000, 97))


def test_control_characters_and_lone_surrogates_are_dropped():
    pages = [RenderPage(page=1, legal_english="a\x00b\x07c\ud800d\r\ne\tf", plain_english="ok")]
    text = "\n".join(_page_texts(render_pdf(_meta(), pages)))
    assert "abcd\ne" in text
    assert report_text(pages).startswith("Page 1\n\nLegal English:\nabcd\ne    f\n")


# --- the request ----------------------------------------------------------------------------


def test_layout_is_validated():
    with pytest.raises(ValueError, match="layout"):
        _meta(layout="three-column")


def test_source_languages_default_to_the_page_languages(standard_pdf: bytes):
    cover = _flat(_page_texts(standard_pdf)[0])
    assert "Source language(s) Spanish (es) Translated into English" in cover
    pages = [RenderPage(page=1, language="el"), RenderPage(page=2, language="rus")]
    cover = _flat(_page_texts(render_pdf(_meta(summary=""), pages))[0])
    assert "Greek (el), Russian (rus)" in cover and "(no summary)" in cover
    explicit = _meta(source_languages=["spa+eng"])
    assert "Spanish + English (spa+eng)" in _flat(_page_texts(render_pdf(explicit, pages))[0])
