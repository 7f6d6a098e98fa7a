"""Makes the sample documents in this folder (committed, so that `make demo` needs nothing).

    .venvs/dev/bin/python samples/make_samples.py

contrato-2-paginas.pdf: page 1 born-digital (a text layer), page 2 a 300-dpi greyscale scan
(an image only) of Spanish legal text.
"""

from pathlib import Path

import pymupdf

HERE = Path(__file__).parent
DIGITAL_TEXT = (
    "CONTRATO DE ARRENDAMIENTO\n\n"
    "Primera. El arrendador cede al arrendatario el uso de la vivienda "
    "situada en la calle Mayor 5.\n"
    "Segunda. La renta mensual es de ochocientos euros, pagadera dentro de los cinco primeros dias."
)
SCANNED_TEXT = (
    "Tercera. El contrato tiene una duracion de un ano y se prorroga tacitamente.\n"
    "Cuarta. El arrendatario no podra subarrendar la vivienda sin consentimiento escrito.\n"
    "Quinta. Las partes se someten a los juzgados de Madrid."
)


def text_page(document: pymupdf.Document, text: str) -> None:
    page = document.new_page(width=595, height=842)
    page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), text, fontsize=12, fontname="helv")


def scanned_page(document: pymupdf.Document, text: str) -> None:
    source = pymupdf.open()
    text_page(source, text)
    pixmap = source[0].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    page = document.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=pixmap.tobytes("png"))


def main() -> None:
    document = pymupdf.open()
    text_page(document, DIGITAL_TEXT)
    scanned_page(document, SCANNED_TEXT)
    document.save(HERE / "contrato-2-paginas.pdf", garbage=4, deflate=True)


if __name__ == "__main__":
    main()
