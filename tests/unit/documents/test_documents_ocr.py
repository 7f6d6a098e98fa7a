from __future__ import annotations

import shutil

import pymupdf
import pytest
from documents_inputs import LEGAL_LINES, encrypt_pdf, multipage_tiff
from pagewise.documents.errors import DocumentError
from pagewise.documents.ocr import extract_page, parse_tsv

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_error_rate(expected: str, actual: str) -> float:
    # Compare with whitespace normalised: line/paragraph breaks are layout, not characters.
    exp, act = " ".join(expected.split()), " ".join(actual.split())
    return levenshtein(exp, act) / len(exp)


def test_born_digital_page_uses_text_layer(born_digital_pdf: bytes):
    result = extract_page(born_digital_pdf, 1, tesseract_cmd="/nonexistent/tesseract")
    # The bogus tesseract path proves OCR was never attempted.
    assert result.source == "text_layer"
    assert result.text == "\n".join(LEGAL_LINES)
    assert result.confidence is None
    assert result.page == 1


def test_blank_page_skips_tesseract(blank_pdf: bytes):
    # A flat page is recognised without running Tesseract at all.
    result = extract_page(blank_pdf, 1, tesseract_cmd="/nonexistent/tesseract")
    assert (result.source, result.text, result.confidence) == ("blank", "", None)


def test_short_text_layer_is_kept_when_ocr_finds_nothing():
    doc = pymupdf.open()
    page = doc.new_page()
    # A real but short text layer (below min_text_chars), drawn in white so the rendered page
    # is flat and OCR finds nothing: the layer must win over "blank".
    page.insert_text((72, 72), "Page 3", fontsize=11, color=(1, 1, 1))
    result = extract_page(doc.tobytes(), 1, tesseract_cmd="/nonexistent/tesseract")
    assert (result.source, result.text) == ("text_layer", "Page 3")


def test_garbage_text_layer_is_not_trusted():
    from pagewise.documents.ocr import _is_usable_text_layer

    assert not _is_usable_text_layer("\ufffd" * 40, 20)
    assert not _is_usable_text_layer("%$#@!&*()" * 5, 20)
    assert not _is_usable_text_layer("too short", 20)
    assert _is_usable_text_layer("Señor Müller signed the résumé on 3 May.", 20)


def test_page_number_out_of_range(born_digital_pdf: bytes):
    with pytest.raises(ValueError):
        extract_page(born_digital_pdf, 2)
    with pytest.raises(ValueError):
        extract_page(born_digital_pdf, 0)


def test_parse_tsv_rebuilds_lines_and_paragraphs():
    columns = "level page_num block_num par_num line_num word_num left top width height conf text"
    header = "\t".join(columns.split())
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t10\t10\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tHello",
        '5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\t"world"',
        "5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tsecond",
        "5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t60\tNext",
        "5\t1\t2\t1\t1\t2\t0\t0\t1\t1\t95\t ",
    ]
    text, confidence = parse_tsv("\n".join([header, *rows]) + "\n")
    assert text == 'Hello "world"\nsecond\n\nNext'
    assert confidence == 75.0
    assert parse_tsv(header + "\n") == ("", None)


@needs_tesseract
def test_scanned_page_is_ocrd(scanned_page_pdf: bytes):
    result = extract_page(scanned_page_pdf, 1)
    expected = "\n".join(LEGAL_LINES)
    cer = char_error_rate(expected, result.text)
    print(f"\n300-dpi page: OCR {result.ocr_seconds:.2f}s, CER {cer:.2%}, conf {result.confidence}")
    assert result.source == "ocr"
    assert cer < 0.05, result.text
    assert result.confidence is not None and result.confidence > 80
    assert result.ocr_seconds > 0
    # Lines stay lines: the translator needs the layout.
    assert result.text.count("\n") >= len(LEGAL_LINES) - 1


@needs_tesseract
def test_png_page_is_ocrd(png_bytes: bytes):
    result = extract_page(png_bytes, 1)
    assert result.source == "ocr"
    assert char_error_rate("\n".join(LEGAL_LINES), result.text) < 0.05


@needs_tesseract
def test_second_tiff_page_is_ocrd():
    tiff = multipage_tiff(
        [["First page of the exhibit."], ["Second page of the exhibit."]], dpi=300
    )
    result = extract_page(tiff, 2)
    assert result.source == "ocr"
    assert "Second page of the exhibit" in result.text


@needs_tesseract
def test_tesseract_failure_is_ocr_failed(scanned_page_pdf: bytes):
    with pytest.raises(DocumentError) as info:
        extract_page(scanned_page_pdf, 1, languages="nosuchlanguage")
    assert info.value.error_code == "ocr_failed"
    assert "nosuchlanguage" in info.value.message


def test_missing_tesseract_is_ocr_failed(scanned_page_pdf: bytes):
    with pytest.raises(DocumentError) as info:
        extract_page(scanned_page_pdf, 1, tesseract_cmd="/nonexistent/tesseract")
    assert info.value.error_code == "ocr_failed"


def test_encrypted_pdf_cannot_be_extracted(born_digital_pdf: bytes):
    locked = encrypt_pdf(born_digital_pdf, user_pw="user")
    with pytest.raises(DocumentError) as info:
        extract_page(locked, 1)
    assert info.value.error_code == "encrypted_pdf"
