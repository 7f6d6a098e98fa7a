from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
from pagewise.documents import render
from pagewise.documents.render import RenderPage, render_translated_pdf

NOTE = "Not translated: no LLM is configured; this is the source text."


def _pages() -> list[RenderPage]:
    long_text = "\n\n".join(f"Paragraph {n}: the parties agree to the clause." for n in range(90))
    return [
        RenderPage(
            page=1,
            source="ocr",
            legal_english="Señor Müller signed the résumé <b>&amp; more</b>.\nSecond line.",
            plain_english="Ελληνικά: Συμφωνία. Кириллица: Договор аренды.",
            note=NOTE,
        ),
        RenderPage(
            page=2,
            source="text_layer",
            legal_english=long_text,
            plain_english="Final plain text.",
            note="",
        ),
    ]


def _render(**overrides: object) -> bytes:
    kwargs: dict[str, object] = {
        "document_name": "contrato_arrendamiento.pdf",
        "summary": "The lease runs for five years.",
        "summary_label": "Extractive summary (no LLM configured)",
        "provider_label": "Offline: source text, not translated",
        "pages": _pages(),
        "generated_at": datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
    }
    kwargs.update(overrides)
    return render_translated_pdf(**kwargs)  # type: ignore[arg-type]


def _all_text(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return "\n".join(page.get_text() for page in doc)


def test_render_contains_everything_in_order():
    pdf = _render()
    assert pdf.startswith(b"%PDF-")
    text = _all_text(pdf)
    expected_in_order = [
        "Pagewise translation",
        "contrato_arrendamiento.pdf",
        "2025-01-02 03:04 UTC",
        "Offline: source text, not translated",
        "Summary",
        "Extractive summary (no LLM configured)",
        "The lease runs for five years.",
        "Page 1",
        "Source: ocr",
        NOTE,
        "Legal English",
        "Señor Müller signed the résumé <b>&amp; more</b>.",  # markup-looking text is text
        "Second line.",
        "Plain English",
        "Ελληνικά: Συμφωνία. Кириллица: Договор аренды.",
        "Page 2",
        "Source: text_layer",
        "Paragraph 0:",
        "Paragraph 89:",
        "Final plain text.",
    ]
    position = 0
    for snippet in expected_in_order:
        found = text.find(snippet, position)
        assert found >= 0, f"{snippet!r} missing or out of order"
        position = found + len(snippet)


def test_long_text_flows_onto_more_pages():
    with pymupdf.open(stream=_render(), filetype="pdf") as doc:
        # cover + page 1 + page 2 whose 90 paragraphs need more than one PDF page
        assert doc.page_count >= 4


def _font_names(pdf: bytes) -> set[tuple[str, str]]:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        # get_fonts() rows: (xref, ext, type, basefont, name, encoding); ext "n/a" = not embedded
        return {(f[1], f[3]) for page in doc for f in page.get_fonts()}


def test_fonts_are_embedded_truetype():
    fonts = _font_names(_render())
    assert fonts, "no fonts at all"
    assert all(ext == "ttf" for ext, _ in fonts), fonts
    assert not any("Helvetica" in name for _, name in fonts)
    if Path(render.SYSTEM_DEJAVU_DIR, "DejaVuSans.ttf").is_file():
        assert any("DejaVuSans" in name for _, name in fonts)


def test_falls_back_to_bundled_vera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(render, "SYSTEM_DEJAVU_DIR", str(tmp_path / "missing"))
    pdf = _render(font_dir=str(tmp_path), pages=[RenderPage(1, "ocr", "Café", "Café", "")])
    fonts = _font_names(pdf)
    assert fonts and all(ext == "ttf" and "Vera" in name for ext, name in fonts), fonts
    assert "Café" in _all_text(pdf)


def test_font_dir_is_used_when_it_has_dejavu(tmp_path: Path):
    if not Path(render.SYSTEM_DEJAVU_DIR, "DejaVuSans.ttf").is_file():
        pytest.skip("no DejaVu fonts on this machine")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copy(Path(render.SYSTEM_DEJAVU_DIR, name), tmp_path / name)
    assert any("DejaVuSans" in name for _, name in _font_names(_render(font_dir=str(tmp_path))))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_first_page_renders_with_poppler(tmp_path: Path):
    pdf_path = tmp_path / "out.pdf"
    pdf_path.write_bytes(_render())
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    [png] = sorted(tmp_path.glob("p*.png"))
    grey = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.Pixmap(str(png)))
    dark = sum(1 for value in grey.samples if value < 128)
    assert dark > 500, "first page rendered (almost) blank"
