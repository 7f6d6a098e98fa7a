"""The outputs that keep the source's pages: overlay PDF, searchable original, Word, previews.

The scanned page is page 2 of samples/contrato-2-paginas.pdf (a committed 300-dpi greyscale
image of Spanish legal text; the repository has no scan from a scanner), read into a layout by
the OCR engine (tests/support/ocr_layout.py), as OcrPage stores it.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pymupdf
import pytest
from docx import Document
from pagewise.documents.layout import Block, Box, PageLayout
from pagewise.documents.layout_from_pdf import layout_from_page, layout_from_pdf
from pagewise.documents.outputs.fonts import show_text, text_font, text_width
from pagewise.documents.outputs.overlay import (
    NO_LAYOUT_LABEL,
    NOTES_HEADING,
    OverlayPage,
    render_overlay,
)
from pagewise.documents.outputs.previews import page_previews
from pagewise.documents.outputs.searchable import render_searchable
from pagewise.documents.outputs.word import render_docx
from pagewise.documents.render import DocumentMeta, RenderPage

from tests.support.ocr_layout import ocr_layout

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = (ROOT / "samples" / "contrato-2-paginas.pdf").read_bytes()

# What an LLM gives for the sample's blocks (legal English), by the start of the source block.
ENGLISH = {
    "Página 1 de 2": "Page 1 of 2",
    "Página 2 de 2": "Page 2 of 2",
    "CONTRATO DE ARRENDAMIENTO": "RESIDENTIAL LEASE AGREEMENT",
    "En Madrid, a 3": "In Madrid, on 3 March 2025.",
    "REUNIDOS": "PARTIES",
    "De una parte": (
        "Of the one part, María José Fernández Ruiz, of legal age, domiciled in Madrid, holder "
        "of identity document 50123456-K, acting in her own name, hereinafter “the Lessor”."
    ),
    "De otra parte": (
        "Of the other part, Andrés Martín Gómez, of legal age, holder of identity document "
        "02987654-S, acting in his own name, hereinafter “the Lessee”."
    ),
    "Ambas partes": (
        "Both parties acknowledge each other's legal capacity to enter into this agreement, "
        "which shall be governed by Law 29/1994 of 24 November on Urban Leases and by the "
        "following"
    ),
    "CLÁUSULAS": "CLAUSES",
    "Primera.": (
        "First. Subject matter. The Lessor grants the Lessee the use of the dwelling located at "
        "Calle Mayor 5, second floor B, Madrid, which the Lessee shall use as his habitual and "
        "permanent residence."
    ),
    "Segunda.": (
        "Second. Rent. The monthly rent is eight hundred euros (€800), payable monthly in "
        "advance within the first five days of each month by bank transfer to the account "
        "designated by the Lessor."
    ),
    "Tercera.": (
        "Third. Deposit. Upon signature of this agreement, the Lessee delivers the sum of eight "
        "hundred euros, equivalent to one month's rent, as the statutory deposit. The Lessor "
        "shall return it at the end of the lease, once the condition of the dwelling has been "
        "verified."
    ),
    "Cuarta.": (
        "Fourth. Term. The agreement has a term of one year from the date of its signature and "
        "shall be tacitly renewed for annual periods unless either party notifies the other, at "
        "least thirty days in advance, of its intention not to renew it."
    ),
    "Quinta.": (
        "Fifth. Assignment and subletting. The Lessee may not assign the agreement or sublet "
        "the dwelling, in whole or in part, without the written consent of the Lessor."
    ),
    "Sexta.": (
        "Sixth. Upkeep. The Lessee shall return the dwelling in the same condition in which it "
        "was received, save for wear and tear from normal use. The repairs necessary to keep it "
        "habitable are the responsibility of the Lessor."
    ),
    "Séptima.": (
        "Seventh. Jurisdiction. For any dispute arising from this agreement, the parties submit "
        "to the courts of Madrid."
    ),
    "Y en prueba": (
        "In witness whereof, the parties sign this agreement in duplicate at the place and on "
        "the date first written above."
    ),
    "Fdo.:": "Signed: María José Fernández Ruiz Signed: Andrés Martín Gómez",
}


def _english(block: Block) -> str:
    return next(text for start, text in ENGLISH.items() if block.text.startswith(start))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _rect(box: Box) -> pymupdf.Rect:
    return pymupdf.Rect(box.x0, box.y0, box.x1, box.y1)


def _page_iou(page: pymupdf.Page, layout: PageLayout) -> float:
    """IoU over the page's blocks: for each source block, the box the overlay's words set in
    it cover (read back from the PDF), against the source block's box; summed intersections
    over summed unions."""
    words = page.get_text("words")
    intersection = union = 0.0
    for block in layout.blocks:
        source = _rect(block.box)
        inside = [pymupdf.Rect(w[:4]) for w in words if source.contains(pymupdf.Rect(w[:4]).tl)]
        assert inside, f"no overlay text in block {block.id}"
        written = pymupdf.Rect(inside[0])
        for rect in inside[1:]:
            written |= rect
        overlap = written & source
        shared = overlap.width * overlap.height if not overlap.is_empty else 0.0
        intersection += shared
        union += written.width * written.height + source.width * source.height - shared
    return intersection / union


def _born_digital_with_art() -> bytes:
    """A born-digital page with the sample's text, a logo image and a ruled line."""
    doc = pymupdf.open()
    with pymupdf.open(stream=SAMPLE) as sample:
        doc.insert_pdf(sample, from_page=0, to_page=0)
    page = doc[0]
    logo = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 20), False)
    logo.set_rect(logo.irect, (200, 30, 30))
    page.insert_image(pymupdf.Rect(480, 20, 560, 60), stream=logo.tobytes("png"))
    page.draw_line((60, 515), (535, 515), color=(0, 0, 0), width=1)
    return bytes(doc.tobytes())


@pytest.fixture(scope="module")
def scan_layout() -> PageLayout:
    return ocr_layout(SAMPLE, 2, languages="spa")


def test_born_digital_overlay_replaces_the_text_in_place_and_keeps_images_and_lines() -> None:
    source = _born_digital_with_art()
    layout = layout_from_pdf(source, 1)
    assert [b.id for b in layout.blocks] == [f"b{n}" for n in range(1, 12)]
    spec = OverlayPage(
        page=1, layout=layout, translations={b.id: _english(b) for b in layout.blocks}
    )

    result = render_overlay(source, [spec])

    with pymupdf.open(stream=source) as original, pymupdf.open(stream=result.pdf) as overlay:
        assert overlay.page_count == original.page_count
        assert overlay[0].rect == original[0].rect
        text = overlay[0].get_text()
        assert "arrendatario" not in text and "CONTRATO" not in text  # the source text is gone
        for block in layout.blocks:
            assert all(word in _words(text) for word in _words(_english(block)))
        assert _page_iou(overlay[0], layout) >= 0.9
        # The image and the ruled line are still there, where they were.
        assert [i["bbox"] for i in overlay[0].get_image_info()] == [
            i["bbox"] for i in original[0].get_image_info()
        ]
        lines = [d for d in overlay[0].get_drawings() if d["rect"].height < 2]
        assert any(abs(d["rect"].y0 - 515) < 1 and d["rect"].width > 400 for d in lines)
        # Unicode fonts, embedded and subset (a subset's name has a 6-letter tag).
        fonts = overlay[0].get_fonts()
        assert fonts and all(re.match(r"[A-Z]{6}\+", f[3]) for f in fonts)
        assert all(f[1] == "ttf" for f in fonts)
    assert result.overflowed == {1: 0} and result.appendix_pages == 0


def test_scanned_overlay_paints_the_background_and_sets_the_translation(
    scan_layout: PageLayout,
) -> None:
    assert scan_layout.blocks, "tesseract found no text on the sample's scanned page"
    spec = OverlayPage(
        page=2, layout=scan_layout, translations={b.id: _english(b) for b in scan_layout.blocks}
    )

    result = render_overlay(SAMPLE, [spec])

    with pymupdf.open(stream=SAMPLE) as original, pymupdf.open(stream=result.pdf) as overlay:
        assert overlay.page_count == original.page_count
        assert [p.rect for p in overlay] == [p.rect for p in original]
        page = overlay[1]
        # The scan is still there, and each block is painted over with the paper's colour.
        assert len(page.get_images()) == 1
        fills = [d for d in page.get_drawings() if d.get("fill") is not None]
        for block in scan_layout.blocks:
            painted = [d for d in fills if d["rect"].contains(_rect(block.box))]
            assert painted and all(c > 0.9 for c in painted[0]["fill"])
        # The source text no longer shows: the page, OCR'd again, reads the English.
        raster = overlay[1].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY).tobytes("png")
        seen = ocr_layout(raster, 1, languages="eng").text
        assert "Madrid" in seen and "parties" in seen and "arrendatario" not in seen
        text = page.get_text()
        for block in scan_layout.blocks:
            assert all(word in _words(text) for word in _words(_english(block)))
        assert _page_iou(page, scan_layout) >= 0.9
        # Page 1 was not in the request: unchanged.
        assert overlay[0].get_text() == original[0].get_text()
    assert result.overflowed == {2: 0}


def _one_block_page(box: Box, text: str) -> tuple[bytes, PageLayout]:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_textbox(_rect(box), text, fontsize=10)
    data = bytes(doc.tobytes())
    return data, layout_from_page(pymupdf.open(stream=data)[0])


LONG = " ".join(f"Clause {n} binds the lessee to pay the rent on time." for n in range(1, 40))


def test_what_does_not_fit_continues_in_a_numbered_note_at_the_page_foot() -> None:
    data, layout = _one_block_page(Box(x0=60, y0=60, x1=300, y1=90), "Texto breve del contrato.")
    block = layout.blocks[0]

    result = render_overlay(
        data, [OverlayPage(page=1, layout=layout, translations={block.id: LONG})]
    )

    with pymupdf.open(stream=result.pdf) as overlay:
        assert overlay.page_count == 1
        page = overlay[0]
        in_box = page.get_text(clip=_rect(block.box))
        assert "[1]" in in_box
        text = page.get_text()
        assert NOTES_HEADING in text
        note = text[text.index(NOTES_HEADING) :]
        assert "[1]" in note
        # Nothing lost: every word of the translation is in the box or in its note.
        assert _words(" ".join(text.split())).count("Clause") == LONG.count("Clause")
    assert result.overflowed == {1: 1} and result.appendix_pages == 0


def test_notes_go_to_an_appendix_page_when_the_foot_has_no_room() -> None:
    data, layout = _one_block_page(Box(x0=60, y0=780, x1=300, y1=830), "Texto al pie.")
    block = layout.blocks[0]

    result = render_overlay(
        data, [OverlayPage(page=1, layout=layout, translations={block.id: LONG})]
    )

    with pymupdf.open(stream=result.pdf) as overlay:
        assert overlay.page_count == 2 and result.appendix_pages == 1
        assert overlay[1].rect == overlay[0].rect
        appendix = overlay[1].get_text()
        assert appendix.startswith("Notes to page 1")
        both = overlay[0].get_text() + appendix
        assert _words(both).count("Clause") == LONG.count("Clause")
    assert result.overflowed == {1: 1}


def test_gist_label_and_pages_without_layout() -> None:
    layout = layout_from_pdf(SAMPLE, 1)
    label = "Apertium gist (rule-based machine translation), not a legal translation."
    specs = [
        OverlayPage(page=1, layout=layout, translations={"b1": "LEASE CONTRACT"}, label=label),
        OverlayPage(page=2, layout=None),
    ]
    with pymupdf.open(stream=render_overlay(SAMPLE, specs).pdf) as overlay:
        first = overlay[0].get_text()
        assert label in " ".join(first.split())
        assert "LEASE CONTRACT" in first
        assert "Primera" in first  # a block without a translation keeps its source text
        assert NO_LAYOUT_LABEL in " ".join(overlay[1].get_text().split())


def _raster(page: pymupdf.Page) -> bytes:
    return bytes(page.get_pixmap(dpi=100).samples)


def test_searchable_pdf_renders_identically_and_carries_the_ocr_text(
    scan_layout: PageLayout,
) -> None:
    searchable = render_searchable(SAMPLE, [scan_layout])

    with pymupdf.open(stream=SAMPLE) as original, pymupdf.open(stream=searchable) as out:
        assert out.page_count == original.page_count
        for before, after in zip(original, out, strict=True):
            assert _raster(after) == _raster(before)
        # The text-layer page is untouched; the scanned one now has the OCR's words, in order.
        assert out[0].get_text() == original[0].get_text()
        assert original[1].get_text().strip() == ""
        ocr_words = [w.text for b in scan_layout.blocks for line in b.lines for w in line.words]
        assert [w[4] for w in out[1].get_text("words", sort=True)] == ocr_words
        # Each word sits on its OCR box.
        found = out[1].get_text("words", sort=True)
        boxes = [w.box for b in scan_layout.blocks for line in b.lines for w in line.words]
        assert all(
            pymupdf.Rect(f[:4]).intersects(_rect(box)) for f, box in zip(found, boxes, strict=True)
        )
        assert out[1].search_for("arrendatario")


def test_searchable_pdf_of_an_image_upload() -> None:
    with pymupdf.open(stream=SAMPLE) as sample:
        png = sample[1].get_pixmap(dpi=100).tobytes("png")
    layout = ocr_layout(png, 1, languages="spa")
    with pymupdf.open(stream=render_searchable(png, [layout])) as out:
        assert out.is_pdf and out.page_count == 1
        assert "Madrid" in out[0].get_text()


def test_word_document_has_a_section_per_page_with_headings_and_paragraphs() -> None:
    pages = [
        RenderPage(
            page=1,
            source="text_layer",
            language="es",
            legal_english="LEASE AGREEMENT\n\nFirst. The lessor grants the use.\n\nSecond. Rent.",
            plain_english="The owner lets the tenant live there.",
        ),
        RenderPage(page=2, source="ocr", legal_english="Third. One year.", plain_english="A year."),
    ]
    meta = DocumentMeta(
        document_name="contrato.pdf", generated_at=datetime(2026, 1, 1), summary="A lease."
    )

    document = Document(io.BytesIO(render_docx(meta, pages)))

    assert len(document.sections) == 3  # the title and summary, then one per source page
    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Heading 1", "Page 1") in styled and ("Heading 1", "Page 2") in styled
    assert ("Heading 3", "LEASE AGREEMENT") in styled  # the translation's heading is kept
    assert ("Normal", "First. The lessor grants the use.") in styled
    assert ("Heading 2", "Legal English") in styled and ("Heading 2", "Plain English") in styled
    assert ("Normal", "The owner lets the tenant live there.") in styled
    page_two = [text for _, text in styled[[t for _, t in styled].index("Page 2") :]]
    assert "Third. One year." in page_two and "First. The lessor grants the use." not in page_two


def test_previews_are_small_pngs_one_per_page() -> None:
    previews = page_previews(SAMPLE)
    assert len(previews) == 2
    for png in previews:
        pixmap = pymupdf.Pixmap(png)
        assert png.startswith(b"\x89PNG") and pixmap.width == 360
        assert len(png) < 200_000


def test_layout_from_a_text_layer_page() -> None:
    layout = layout_from_pdf(SAMPLE, 1)
    assert layout.source == "text_layer"
    assert (layout.width, layout.height) == pytest.approx((595.28, 841.89), abs=0.01)
    assert layout.blocks[1].text == "CONTRATO DE ARRENDAMIENTO DE VIVIENDA"
    assert (
        layout.blocks[8].lines[0].words[:2]
        and layout.blocks[8].lines[0].words[0].text == "Primera."
    )
    assert layout.blocks[8].box.x0 == pytest.approx(76.87, abs=0.01)
    assert layout_from_pdf(SAMPLE, 2).blocks == []  # the scan has no text layer


def test_a_rotated_page_keeps_its_size_and_loses_its_source_text() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_textbox(
        pymupdf.Rect(60, 60, 535, 200), "Cláusula primera del contrato.", fontsize=12
    )
    page.set_rotation(90)
    data = bytes(doc.tobytes())
    layout = layout_from_pdf(data, 1)
    assert (layout.width, layout.height) == (842, 595)  # as the reader sees it

    result = render_overlay(
        data, [OverlayPage(page=1, layout=layout, translations={"b1": "First clause."})]
    )

    with pymupdf.open(stream=result.pdf) as overlay:
        assert overlay[0].rect == pymupdf.Rect(0, 0, 842, 595)
        text = overlay[0].get_text()
        # The line runs sideways on the reader's page: its box is a narrow column, and the
        # translation is set in it horizontally, a few letters a line (the overlay does not
        # turn text to a block's direction).
        assert "Cláusula" not in text and "".join(text.split()) == "Firstclause."
        written = pymupdf.Rect(overlay[0].get_text("blocks")[0][:4])
        assert written.intersects(_rect(layout.blocks[0].box))


def test_the_fast_text_calls_write_and_measure_exactly_what_pymupdfs_own_do() -> None:
    """show_text and text_width stand in for TextWriter.append and Font.text_length on every
    word of the overlay and the searchable original (append re-measures all the text so far
    at each call): the page content they make must be byte for byte the same."""
    font = text_font()
    words = ["CLÁUSULA", "arrendatario,", "año", "€1.250,00", "Ωμέγα", "Straße", "x", "«5»"]
    placed = [
        (37.5 + 41.3 * n % 500, 800.25 - 13.7 * n % 780, words[n % len(words)], 4.0 + n % 23 / 3)
        for n in range(400)
    ]
    contents = []
    for fast in (False, True):
        with pymupdf.open() as doc:
            page = doc.new_page()
            writer = pymupdf.TextWriter(page.rect, color=(0.05, 0.05, 0.25))
            for x, y, word, size in placed:
                if fast:
                    show_text(writer, x, y, word, font, size)
                else:
                    writer.append((x, y), word, font=font, fontsize=size)
            writer.write_text(page, render_mode=3)
            contents.append(page.read_contents())
    assert contents[1] == contents[0] and contents[0].count(b"TJ") == len(placed)
    for word in words:
        assert text_width(font, word) == font.text_length(word, fontsize=1)
        assert text_width(font, word) == font.text_length(word, fontsize=1)  # from the table
