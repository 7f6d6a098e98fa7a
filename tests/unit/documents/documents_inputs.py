"""Document inputs generated on the fly (no binary fixtures in the repo).

A uniquely named module rather than conftest.py, so tests can import the helpers without
colliding with other directories' conftest modules.
"""

from __future__ import annotations

import io

import pymupdf

LEGAL_LINES = [
    "This lease agreement is made between the landlord and the tenant.",
    "The tenant shall pay the monthly rent on the first day of each month.",
    "Either party may terminate this agreement with ninety days written notice.",
    "This agreement is governed by the laws of the Kingdom of Spain.",
]


def text_pdf(lines: list[str], pages: int = 1) -> pymupdf.Document:
    """A born-digital PDF: each page carries ``lines`` as a real text layer."""
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()  # default 595 x 842 pt
        page.insert_text((72, 96), "\n".join(lines), fontsize=12, fontname="helv")
    return doc


def scanned_pdf(lines: list[str], dpi: int = 300) -> bytes:
    """An image-only PDF page: the text PDF rasterised at ``dpi``, as a scanner would."""
    source = text_pdf(lines)
    pix = source[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    out = pymupdf.open()
    page = out.new_page(width=source[0].rect.width, height=source[0].rect.height)
    page.insert_image(page.rect, pixmap=pix)
    return out.tobytes()


def page_image(lines: list[str], dpi: int = 300) -> pymupdf.Pixmap:
    """A greyscale page image that records its resolution, like a scanner's output."""
    pix = text_pdf(lines)[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    pix.set_dpi(dpi, dpi)
    return pix


def multipage_tiff(pages: list[list[str]], dpi: int = 100) -> bytes:
    """A multi-page TIFF (Pillow, a reportlab dependency, writes multi-page TIFFs)."""
    frames = [page_image(lines, dpi=dpi).pil_image() for lines in pages]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], dpi=(dpi, dpi))
    return buf.getvalue()


def encrypt_pdf(data: bytes, *, user_pw: str | None) -> bytes:
    """AES-256 encrypt a PDF; with ``user_pw=None`` only an owner password is set."""
    doc = pymupdf.open(stream=data, filetype="pdf")
    # The constant exists at runtime but is missing from PyMuPDF's type information.
    aes_256 = pymupdf.PDF_ENCRYPT_AES_256  # type: ignore[attr-defined]
    if user_pw is None:
        return doc.tobytes(encryption=aes_256, owner_pw="owner")
    return doc.tobytes(encryption=aes_256, owner_pw="owner", user_pw=user_pw)
