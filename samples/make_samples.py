"""Makes the sample documents in this folder (committed, so that `make demo` needs nothing).

    .venvs/dev/bin/python samples/make_samples.py

contrato-2-paginas.pdf: a two-page Spanish residential lease, correctly accented. Page 1 is
born-digital (a text layer, DejaVu Serif embedded); page 2 is the same kind of page printed and
scanned: a 300-dpi greyscale image only, which the pipeline reads with Tesseract.

The contract is typeset with reportlab in DejaVu Serif (a Unicode TrueType font, so á, é, í,
ó, ú, ñ, «» and º come out right), then page 2 is rasterised with PyMuPDF. The output is the
same bytes on every run (fixed dates, no random document id).
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

HERE = Path(__file__).parent
OUTPUT = HERE / "contrato-2-paginas.pdf"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian/Ubuntu: fonts-dejavu-core
# A fixed date keeps the file byte-identical between runs.
MADE = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)

TITLE = "CONTRATO DE ARRENDAMIENTO DE VIVIENDA"
PLACE_AND_DATE = "En Madrid, a 3 de marzo de 2025."

# Page 1: born-digital, with a text layer.
PARTIES = [
    "De una parte, María José Fernández Ruiz, mayor de edad, con domicilio en Madrid y "
    "DNI 50123456-K, que interviene en su propio nombre, en adelante «el arrendador».",
    "De otra parte, Andrés Martín Gómez, mayor de edad, con DNI 02987654-S, que interviene "
    "en su propio nombre, en adelante «el arrendatario».",
    "Ambas partes se reconocen la capacidad legal necesaria para otorgar el presente contrato, "
    "que se regirá por la Ley 29/1994, de 24 de noviembre, de Arrendamientos Urbanos, y por "
    "las siguientes",
]
CLAUSES_PAGE_1 = [
    (
        "Primera. Objeto.",
        "El arrendador cede al arrendatario el uso de la vivienda situada en la calle Mayor 5, "
        "segundo B, de Madrid, que el arrendatario destinará a su residencia "
        "habitual y permanente.",
    ),
    (
        "Segunda. Renta.",
        "La renta mensual es de ochocientos euros (800 €), pagadera por meses anticipados "
        "dentro de los cinco primeros días de cada mes, mediante transferencia bancaria a la "
        "cuenta que indique el arrendador.",
    ),
    (
        "Tercera. Fianza.",
        "A la firma de este contrato, el arrendatario entrega la cantidad de ochocientos euros, "
        "equivalente a una mensualidad de renta, en concepto de fianza legal. El arrendador la "
        "devolverá al término del arrendamiento, una vez comprobado el estado de la vivienda.",
    ),
]
# Page 2: printed, signed and scanned (an image only).
CLAUSES_PAGE_2 = [
    (
        "Cuarta. Duración.",
        "El contrato tiene una duración de un año a contar desde la fecha de su firma y se "
        "prorrogará tácitamente por plazos anuales, salvo que una de las partes comunique a la "
        "otra, con al menos treinta días de antelación, su voluntad de no renovarlo.",
    ),
    (
        "Quinta. Cesión y subarriendo.",
        "El arrendatario no podrá ceder el contrato ni subarrendar la vivienda, en todo o en "
        "parte, sin el consentimiento escrito del arrendador.",
    ),
    (
        "Sexta. Conservación.",
        "El arrendatario devolverá la vivienda en el mismo estado en que la recibió, salvo el "
        "desgaste por el uso normal. Las reparaciones necesarias para conservarla en condiciones "
        "de habitabilidad corresponden al arrendador.",
    ),
    (
        "Séptima. Jurisdicción.",
        "Para cualquier controversia derivada de este contrato, las partes se someten a los "
        "juzgados de Madrid.",
    ),
]
CLOSING = (
    "Y en prueba de conformidad, las partes firman el presente contrato por duplicado en el "
    "lugar y la fecha indicados al principio."
)
SIGNATURES = ["Fdo.: María José Fernández Ruiz", "Fdo.: Andrés Martín Gómez"]


def register_fonts() -> None:
    for name, file in (("Serif", "DejaVuSerif.ttf"), ("Serif-Bold", "DejaVuSerif-Bold.ttf")):
        path = FONT_DIR / file
        if not path.is_file():
            sys.exit(f"{path} not found: install the DejaVu fonts (fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily("Serif", normal="Serif", bold="Serif-Bold")


def styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName="Serif", fontSize=11, leading=16, alignment=TA_LEFT, spaceAfter=8
    )
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName="Serif-Bold", fontSize=14, alignment=TA_CENTER
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, spaceAfter=14),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName="Serif-Bold", alignment=TA_CENTER, spaceBefore=8
        ),
        "body": body,
        "sign": ParagraphStyle("sign", parent=body, alignment=TA_CENTER, spaceAfter=0),
    }


def clause(title: str, text: str, body: ParagraphStyle) -> Paragraph:
    return Paragraph(f"<b>{title}</b> {text}", body)


def story() -> list[object]:
    st = styles()
    # Room to sign above a rule, the signer's name under it; a gap between the two.
    first, second = (Paragraph(name, st["sign"]) for name in SIGNATURES)
    signature_rows = [["", "", ""], [first, "", second]]
    return [
        Paragraph(TITLE, st["title"]),
        Paragraph(PLACE_AND_DATE, st["centre"]),
        Paragraph("REUNIDOS", st["heading"]),
        *(Paragraph(text, st["body"]) for text in PARTIES),
        Paragraph("CLÁUSULAS", st["heading"]),
        *(clause(title, text, st["body"]) for title, text in CLAUSES_PAGE_1),
        PageBreak(),
        *(clause(title, text, st["body"]) for title, text in CLAUSES_PAGE_2),
        Paragraph(CLOSING, st["body"]),
        Spacer(1, 8 * mm),
        Table(
            signature_rows,
            colWidths=[70 * mm, 20 * mm, 70 * mm],
            rowHeights=[22 * mm, None],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "Serif"),  # not Table's own Helvetica
                    ("LINEBELOW", (0, 0), (0, 0), 0.5, colors.black),
                    ("LINEBELOW", (2, 0), (2, 0), 0.5, colors.black),
                ]
            ),
        ),
    ]


def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Serif", 9)
    canvas.drawCentredString(A4[0] / 2, 15 * mm, f"Página {doc.page} de 2")
    canvas.restoreState()


def typeset() -> bytes:
    """Both pages as a born-digital PDF."""
    rl_config.invariant = True  # no creation date or random id: the same bytes every run
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=TITLE.capitalize(),
        author="Pagewise samples",
        initialFontName="Serif",  # else the canvas starts in Helvetica (never embedded)
    )
    doc.build(story(), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def main() -> None:
    with pymupdf.open(stream=typeset(), filetype="pdf") as typeset_pdf:
        if typeset_pdf.page_count != 2:
            sys.exit(f"the contract takes {typeset_pdf.page_count} pages, not 2: shorten it")
        document = pymupdf.open()
        document.insert_pdf(typeset_pdf, from_page=0, to_page=0)
        # The scan: page 2 printed and read back at 300 dpi, greyscale, no text layer.
        pixmap = typeset_pdf[1].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        page = document.new_page(width=typeset_pdf[1].rect.width, height=typeset_pdf[1].rect.height)
        page.insert_image(page.rect, stream=pixmap.tobytes("png"))
    stamp = MADE.strftime("D:%Y%m%d%H%M%S+00'00'")
    document.set_metadata(
        {
            "title": "Contrato de arrendamiento de vivienda",
            "author": "Pagewise samples",
            "creator": "samples/make_samples.py",
            "producer": "reportlab, PyMuPDF",
            "creationDate": stamp,
            "modDate": stamp,
        }
    )
    document.save(OUTPUT, garbage=4, deflate=True, no_new_id=True)
    document.close()


if __name__ == "__main__":
    main()
