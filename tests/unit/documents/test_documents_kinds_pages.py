from __future__ import annotations

import io
import pickle

import pymupdf
import pytest
from documents_inputs import encrypt_pdf, page_image, text_pdf
from pagewise.documents.errors import DocumentError
from pagewise.documents.kinds import CONTENT_TYPES, detect_kind
from pagewise.documents.pages import count_pages, open_document


def test_detects_pdf_png_jpeg_tiff(born_digital_pdf: bytes, png_bytes: bytes, two_page_tiff: bytes):
    jpeg = pymupdf.Pixmap(png_bytes).tobytes("jpeg")
    assert detect_kind(born_digital_pdf) == "pdf"
    assert detect_kind(png_bytes) == "png"
    assert detect_kind(jpeg) == "jpeg"
    assert detect_kind(two_page_tiff) == "tiff"
    assert set(CONTENT_TYPES) == {"pdf", "png", "jpeg", "tiff"}
    assert CONTENT_TYPES["pdf"] == "application/pdf"


@pytest.mark.parametrize("data", [b"", b"hello world, not a document", b"PK\x03\x04zipfile"])
def test_garbage_is_unsupported(data: bytes):
    with pytest.raises(DocumentError) as info:
        detect_kind(data)
    assert info.value.error_code == "unsupported_file_type"
    with pytest.raises(DocumentError) as info:
        count_pages(data)
    assert info.value.error_code == "unsupported_file_type"


def test_counts_pdf_png_and_multipage_tiff(png_bytes: bytes, two_page_tiff: bytes):
    assert count_pages(text_pdf(["x"], pages=3).tobytes()) == 3
    assert count_pages(png_bytes) == 1
    assert count_pages(two_page_tiff) == 2


def test_each_tiff_frame_is_a_page_of_its_own_size():
    # Scanners write multi-page TIFFs with frames of different sizes (a letter, then a
    # receipt); each frame is a page, sized from its own pixels and resolution.
    frames = [
        page_image(["Frame one."], dpi=100).pil_image(),
        page_image(["Frame two."], dpi=100).pil_image().crop((0, 0, 400, 300)),
        page_image(["Frame three."], dpi=100).pil_image(),
    ]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], dpi=(100, 100))
    assert count_pages(buf.getvalue()) == 3
    with open_document(buf.getvalue()) as doc:
        sizes = [(round(page.rect.width), round(page.rect.height)) for page in doc]
    assert sizes[1] == (288, 216)  # 400 x 300 px at 100 dpi, in points
    assert sizes[0] == sizes[2] != sizes[1]


def test_badly_truncated_pdf_is_corrupt(born_digital_pdf: bytes):
    # Valid magic, body cut off before any object: nothing to repair.
    with pytest.raises(DocumentError) as info:
        count_pages(born_digital_pdf[:40])
    assert info.value.error_code == "corrupt_document"


def test_a_pdf_mupdf_had_to_repair_is_refused_as_corrupt():
    # MuPDF rebuilds a lost xref/trailer by scanning the objects, so a PDF cut off at its tail
    # still opens; but a cut in the middle loses pages' content while the page count survives.
    # The two look the same from outside, and processing either would be silently wrong.
    full = text_pdf(["some text"], pages=3).tobytes()
    for cut in (len(full) - 30, len(full) // 2):
        with pytest.raises(DocumentError) as info:
            count_pages(full[:cut])
        assert info.value.error_code == "corrupt_document"
        assert "damaged" in info.value.message


def test_encrypted_pdf(born_digital_pdf: bytes):
    locked = encrypt_pdf(born_digital_pdf, user_pw="user")
    with pytest.raises(DocumentError) as info:
        count_pages(locked)
    assert info.value.error_code == "encrypted_pdf"


def test_owner_password_only_pdf_is_readable(born_digital_pdf: bytes):
    # Permissions-only encryption opens without a password; it must not be rejected.
    restricted = encrypt_pdf(born_digital_pdf, user_pw=None)
    assert count_pages(restricted) == 1


def test_pdf_with_no_pages_is_empty():
    # PyMuPDF refuses to save a page-less PDF, so write a minimal one by hand.
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    with pytest.raises(DocumentError) as info:
        count_pages(body)
    assert info.value.error_code == "empty_document"


def test_document_error_pickles():
    # Errors cross process boundaries when pages run in worker processes.
    err = pickle.loads(pickle.dumps(DocumentError("ocr_failed", "boom")))
    assert (err.error_code, err.message) == ("ocr_failed", "boom")
