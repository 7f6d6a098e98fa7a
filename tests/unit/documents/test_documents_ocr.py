from __future__ import annotations

import io
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest
from documents_inputs import (
    DEJAVU_SANS,
    LEGAL_LINES,
    PARAGRAPHS,
    born_digital,
    encrypt_pdf,
    image_pdf,
    multipage_tiff,
    normalised,
    outlined,
    scan,
    unmapped_font_pdf,
)
from pagewise.documents.errors import DocumentError
from pagewise.documents.language import (
    SHIPPED_TESSERACT_LANGUAGES,
    TESSERACT_CODES,
    choose_ocr_languages,
    detect_language,
    tesseract_languages,
    to_iso1,
    to_tesseract,
)
from pagewise.documents.ocr import (
    PageText,
    _ocr_reason,
    _Raster,
    _TextLayer,
    extract_page,
    parse_osd,
    parse_tsv,
    render_dpi,
)

TesseractCalls = tuple[str, Callable[[], list[str]]]

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


# --- deciding per page, without OCR ----------------------------------------------------------


def test_born_digital_page_is_never_ocrd(failing_tesseract: str):
    # A Spanish page with accents, read from its text layer: a tesseract that fails proves it
    # never ran, and the layer still gives the page's language.
    doc = born_digital(PARAGRAPHS["es"])
    result = extract_page(doc.tobytes(), 1, tesseract_cmd=failing_tesseract)
    assert (result.source, result.reason, result.ocr_seconds) == ("text_layer", None, 0.0)
    assert normalised(result.text) == normalised(doc[0].get_text())
    assert "Núñez" in result.text
    assert result.language == "es"
    assert (result.dpi, result.ocr_languages, result.rotation) == (None, None, 0)


def test_blank_scan_is_blank_without_tesseract(failing_tesseract: str):
    white = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 850, 1100), False)
    white.clear_with(255)
    result = extract_page(image_pdf(white, dpi=100).tobytes(), 1, tesseract_cmd=failing_tesseract)
    assert (result.source, result.text, result.reason) == ("blank", "", "no_text_layer")
    assert result.dpi == 200  # a 100-dpi scan is read at the 200-dpi floor


@pytest.mark.parametrize(
    ("layer", "is_pdf", "reason"),
    [
        (_TextLayer("A real paragraph of born-digital text.", 0.0, 0.3, 0.0), True, None),
        (_TextLayer("", 0.0, 0.0, 1.0), True, "no_text_layer"),
        (_TextLayer("", 0.0, 0.0, 0.0), False, "image_file"),
        (_TextLayer("Page 3", 0.0, 0.01, 0.0), True, "short_text_layer"),
        (_TextLayer("\ufffd" * 30 + "abc", 0.0, 0.3, 0.0), True, "garbled_text_layer"),
        (
            _TextLayer("A hidden layer of old OCR text here.", 0.9, 0.0, 1.0),
            True,
            "invisible_text_layer",
        ),
        (_TextLayer("CONFIDENTIAL - EXHIBIT 0001234", 0.0, 0.01, 1.0), True, "text_stamp_on_scan"),
        (_TextLayer("COPY", 0.0, 0.01, 1.0), True, "text_stamp_on_scan"),
        # Glyph ids from a font without a ToUnicode map: letters, but not text.
        (
            _TextLayer("(O DUUHQGDWDULR SDJDU OD UHQWD", 0.0, 0.3, 0.0, 1.0),
            True,
            "garbled_text_layer",
        ),
        # A page-sized background image under a real page of text is not a scan.
        (_TextLayer("A real paragraph of born-digital text.", 0.0, 0.4, 1.0), True, None),
    ],
)
def test_why_a_page_is_ocrd(layer: _TextLayer, is_pdf: bool, reason: str | None):
    assert _ocr_reason(layer, is_pdf=is_pdf, min_text_chars=20) == reason


@pytest.mark.parametrize(
    ("scan_dpi", "expected"),
    [(150, 200), (240, 240), (300, 300), (600, 300)],
)
def test_pdf_scan_is_read_at_its_own_resolution_within_200_to_300(scan_dpi: int, expected: int):
    source = born_digital("Short text.")
    doc = image_pdf(scan(source[0], dpi=scan_dpi), dpi=scan_dpi)
    dpi, zoom = render_dpi(doc[0], is_pdf=True, dpi=300)
    assert dpi == expected
    assert zoom == pytest.approx(expected / 72)


def test_born_digital_pdf_page_is_rendered_at_the_requested_dpi():
    page = born_digital("Outlined text has no image to take a resolution from.")[0]
    assert render_dpi(page, is_pdf=True, dpi=300) == (300, 300 / 72)
    assert render_dpi(page, is_pdf=True, dpi=100)[0] == 200


@pytest.mark.parametrize("kind", ["png", "jpeg", "tiff"])
@pytest.mark.parametrize(
    ("declared", "size", "expected_dpi", "expected_scale"),
    [
        (300, (2480, 3508), 300, 1.0),  # an A4 scan at 300 dpi: its own pixels
        (600, (4960, 7016), 300, 0.5),  # 600 dpi: halved
        (None, (2480, 3508), 300, 1.0),  # no resolution: 300 dpi estimated from the size
        (100, (850, 1100), 200, 2.0),  # a 100-dpi fax: up to the 200-dpi floor
    ],
)
def test_image_file_resolution(
    kind: str,
    declared: int | None,
    size: tuple[int, int],
    expected_dpi: int,
    expected_scale: float,
):
    pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, *size), False)
    pix.clear_with(255)
    image = pix.pil_image()
    buf = io.BytesIO()
    image.save(buf, format=kind.upper(), **({"dpi": (declared, declared)} if declared else {}))
    doc = pymupdf.open(stream=buf.getvalue(), filetype=kind)
    dpi, zoom = render_dpi(doc[0], is_pdf=False, dpi=300)
    assert dpi == expected_dpi
    assert doc[0].rect.width * zoom == pytest.approx(size[0] * expected_scale, rel=0.01)


def test_parse_osd():
    osd = "Page number: 0\nOrientation in degrees: 90\nRotate: 270\nOrientation confidence: 7.74\n"
    assert parse_osd(osd) == 270
    assert parse_osd(osd.replace("7.74", "0.3")) == 0  # too unsure to act on
    assert parse_osd(osd.replace("Rotate: 270", "Rotate: 0")) == 0
    assert parse_osd("Too few characters. Skipping this page") == 0


@pytest.mark.parametrize("skew", [0.0, 0.8, 2.0, -2.0, -3.5])
def test_skew_is_measured(skew: float):
    page = born_digital((PARAGRAPHS["en"] + " ") * 2)[0]
    pix = scan(page, dpi=150, skew=skew)
    raster = _Raster(pix.samples_mv.tobytes(), pix.width, pix.height)
    # The correction turns the scan back: prerotate(skew + correction) is level.
    assert raster.skew() == pytest.approx(-skew, abs=0.15)


def test_page_text_stays_positionally_compatible():
    # Callers built PageText(page, text, source, confidence, ocr_seconds); the new fields
    # have defaults.
    text = PageText(1, "x", "ocr", 90.0, 1.0)
    assert (text.language, text.rotation, text.dpi, text.reason) == (None, 0, None, None)


# --- OCR of generated scans with known text ---------------------------------------------------
# Bounds: CER < 1% on clean 300-dpi pages (the bar), upright or turned by 90/180/270;
# < 2% on skewed (2 degrees) and noisy pages (Gaussian noise sigma 25-40, blur, dust). The
# measured figures are printed (pytest -s).


def _assert_reads(result: PageText, expected: str, bound: float, label: str) -> float:
    cer = char_error_rate(expected, result.text)
    print(
        f"\n{label}: CER {cer:.2%}, {result.ocr_seconds:.2f}s, conf {result.confidence}, "
        f"{result.ocr_languages}, rotation {result.rotation}, deskew {result.deskew}"
    )
    assert result.source == "ocr"
    assert cer < bound, result.text
    return cer


@needs_tesseract
@pytest.mark.parametrize("language", list(PARAGRAPHS))
def test_clean_scan_in_each_language_is_read_with_its_own_pack(
    language: str, tesseract_calls: TesseractCalls
):
    # The language is not given: the probe detects it and the page is read with its pack.
    command, calls = tesseract_calls
    page = born_digital(PARAGRAPHS[language])[0]
    result = extract_page(image_pdf(scan(page)).tobytes(), 1, tesseract_cmd=command)
    _assert_reads(result, page.get_text(), 0.01, f"clean {language}")
    assert result.language == language
    pack = TESSERACT_CODES[language]
    assert result.ocr_languages == (pack if pack == "eng" else f"{pack}+eng")
    assert (result.reason, result.dpi, result.rotation) == ("no_text_layer", 300, 0)
    assert result.confidence is not None and result.confidence > 90
    # Probe (English, a band) then the page: no orientation check on a page that reads well.
    passes = calls()
    assert len(passes) == 2 and "-l eng" in passes[0] and f"-l {result.ocr_languages} " in passes[1]
    assert not any("--psm 0" in p for p in passes)


@needs_tesseract
def test_source_language_skips_the_probe(tesseract_calls: TesseractCalls):
    command, calls = tesseract_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    data = image_pdf(scan(page)).tobytes()
    for declared in ("es", "spa", "Spanish"):
        result = extract_page(data, 1, tesseract_cmd=command, source_language=declared)
        assert (result.ocr_languages, result.language) == ("spa+eng", "es")
        assert char_error_rate(page.get_text(), result.text) < 0.01
    assert len(calls()) == 3  # one pass each


@needs_tesseract
def test_document_language_skips_the_probe_and_a_wrong_one_is_corrected(
    tesseract_calls: TesseractCalls,
):
    command, calls = tesseract_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    data = image_pdf(scan(page)).tobytes()
    right = extract_page(data, 1, tesseract_cmd=command, document_language="es")
    assert (right.ocr_languages, right.language) == ("spa+eng", "es")
    assert len(calls()) == 1  # the page pass only
    # Earlier pages were French: this page reads as Spanish, so it is read again with spa.
    wrong = extract_page(data, 1, tesseract_cmd=command, document_language="fr")
    assert (wrong.ocr_languages, wrong.language) == ("spa+eng", "es")
    assert [c.split(" --psm")[0] for c in calls()[1:]] == [
        "stdin stdout -l fra+eng",
        "stdin stdout -l spa+eng",
    ]
    assert char_error_rate(page.get_text(), wrong.text) < 0.01


@needs_tesseract
@pytest.mark.parametrize(
    ("rotate", "declared"),
    [(90, None), (180, None), (270, None), (180, "es")],
)
def test_rotated_scan_comes_out_upright(rotate: int, declared: str | None):
    # Language unknown: the probe reads badly, so OSD runs before the full pass. Language
    # declared: the full pass reads badly, OSD runs, and the page is read again turned.
    page = born_digital(PARAGRAPHS["es"])[0]
    data = image_pdf(scan(page, rotate=rotate)).tobytes()
    result = extract_page(data, 1, source_language=declared)
    _assert_reads(result, page.get_text(), 0.01, f"rotated {rotate}, declared {declared}")
    assert result.language == "es"
    # Tesseract's layout analysis reads one of the sideways cases by itself; the others are
    # turned back by the OSD angle.
    assert result.rotation in ({0, 360 - rotate} if rotate == 90 else {360 - rotate})


@needs_tesseract
@pytest.mark.parametrize(("skew", "noise"), [(2.0, 25.0), (-2.0, 40.0)])
def test_skewed_noisy_scan_is_still_read(skew: float, noise: float):
    page = born_digital(PARAGRAPHS["en"])[0]
    label = f"skew {skew} noise {noise}"
    result = extract_page(image_pdf(scan(page, skew=skew, noise=noise)).tobytes(), 1)
    _assert_reads(result, page.get_text(), 0.02, label)
    assert result.deskew == pytest.approx(-skew, abs=0.2)


@needs_tesseract
def test_failing_osd_keeps_the_page_as_it_is(tmp_path):
    # OSD that fails (no osd pack, a sparse page): the page is still read, not failed.
    real = shutil.which("tesseract")
    script = tmp_path / "tesseract-no-osd"
    script.write_text(
        f'#!/bin/sh\ncase "$*" in *"--psm 0"*) echo "no osd" >&2; exit 1;; esac\n'
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    page = born_digital(PARAGRAPHS["en"])[0]
    result = extract_page(image_pdf(scan(page, rotate=180)).tobytes(), 1, tesseract_cmd=str(script))
    assert (result.source, result.rotation) == ("ocr", 0)


@needs_tesseract
def test_scan_at_200_dpi(tesseract_calls: TesseractCalls):
    command, calls = tesseract_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    result = extract_page(
        image_pdf(scan(page, dpi=200), dpi=200).tobytes(),
        1,
        tesseract_cmd=command,
        source_language="es",
    )
    _assert_reads(result, page.get_text(), 0.01, "200 dpi")
    assert result.dpi == 200
    assert "--dpi 200" in calls()[0]


@needs_tesseract
def test_invisible_ocr_layer_is_read_again():
    # An old OCR layer (render mode 3) over the scan, with the errors old OCR made: the page
    # is OCR'd again, and what the image shows wins over what the hidden layer says.
    page = born_digital(PARAGRAPHS["en"])[0]
    doc = image_pdf(scan(page))
    stale = PARAGRAPHS["en"].replace("tenant", "tcnant").replace("agreement", "agrecment")
    box = pymupdf.Rect(36, 36, doc[0].rect.width - 36, doc[0].rect.height - 10)
    doc[0].insert_textbox(box, stale, fontsize=11, render_mode=3)
    result = extract_page(doc.tobytes(), 1)
    assert result.reason == "invisible_text_layer"
    _assert_reads(result, page.get_text(), 0.01, "invisible layer")
    assert "tcnant" not in result.text
    # The hidden layer named the language, so there was no probe.
    assert (result.language, result.ocr_languages) == ("en", "eng")


@needs_tesseract
def test_text_stamp_on_a_scan_is_ocrd_with_the_scan():
    page = born_digital(PARAGRAPHS["es"])[0]
    doc = image_pdf(scan(page))
    doc[0].insert_text((doc[0].rect.width - 150, 20), "COPIA 000123", fontsize=8)
    result = extract_page(doc.tobytes(), 1)
    assert result.reason == "text_stamp_on_scan"
    assert "Núñez" in result.text and "000123" in result.text
    _assert_reads(result, "COPIA 000123 " + page.get_text(), 0.01, "stamp")


@needs_tesseract
def test_outlined_text_is_ocrd():
    source = born_digital(PARAGRAPHS["fr"])
    result = extract_page(outlined(source), 1)
    assert result.reason == "no_text_layer"
    assert result.language == "fr"
    assert result.dpi == 300  # no scan to take a resolution from
    _assert_reads(result, source[0].get_text(), 0.01, "outlined")


@needs_tesseract
def test_each_page_of_a_multipage_tiff():
    pages = [
        [f"Exhibit {n}: the {word} page of the lease."]
        for n, word in ((1, "first"), (2, "second"), (3, "third"))
    ]
    tiff = multipage_tiff(pages, dpi=200)
    for number, lines in enumerate(pages, 1):
        result = extract_page(tiff, number, languages="eng")
        assert (result.source, result.reason, result.dpi) == ("ocr", "image_file", 200)
        assert char_error_rate(lines[0], result.text) < 0.01, result.text


@needs_tesseract
def test_timeout_is_ocr_failed(scanned_page_pdf: bytes):
    with pytest.raises(DocumentError) as info:
        extract_page(scanned_page_pdf, 1, timeout_seconds=0.01)
    assert info.value.error_code == "ocr_failed"


def test_default_languages_are_the_shipped_packs():
    assert SHIPPED_TESSERACT_LANGUAGES == "eng+spa+fra+deu+ita+por+cat"


@needs_tesseract
@pytest.mark.skipif(not Path(DEJAVU_SANS).exists(), reason="fonts-dejavu-core is not installed")
def test_unmapped_font_is_ocrd():
    text = "El arrendatario pagará la renta mensual dentro del plazo pactado."
    data = unmapped_font_pdf(text)
    assert "arrendatario" not in pymupdf.open("pdf", data)[0].get_text()  # glyph ids
    result = extract_page(data, 1, source_language="es")
    assert result.reason == "garbled_text_layer"
    _assert_reads(result, text, 0.01, "unmapped font")


# --- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(PARAGRAPHS))
def test_detects_each_shipped_language(language: str):
    text = PARAGRAPHS[language]
    assert detect_language(text) == language
    # Read with the wrong pack, OCR drops the accents; the language is still recognised.
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    assert detect_language(folded) == language
    assert detect_language(text.upper()) == language


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Contrato",
        "12345 67890 / 2024",
        # What English OCR makes of an upside-down Spanish page: some "words" match stop
        # words (o, a, se), but far too few for running text.
        "AO] GE] UO SEYSIADIG SESTIEY SE] GP CUNDIE CALMIIUOQI OPUBNI IS GgOPEAPUOQY JV "
        "AVAJOSOI JOPDEPUDIIE [oO BIPOd? O}eJ]UOD B]UdSaJd Ja JeHIOJO eyed ajUa",
        # A language we ship no pack for.
        "Dit huurcontract wordt gesloten tussen de verhuurder en de huurder voor onbepaalde tijd.",
    ],
)
def test_unknown_language_is_none(text: str | None):
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("code", "iso1", "pack"),
    [
        ("es", "es", "spa"),
        ("spa", "es", "spa"),
        ("es-ES", "es", "spa"),
        ("Spanish", "es", "spa"),
        ("Español", "es", "spa"),
        ("spa+eng", "es", "spa"),
        ("eng+fra", "fr", "fra"),
        ("eng", "en", "eng"),
        ("ger", "de", "deu"),
        ("cat", "ca", "cat"),
        ("nld", "nld", "nld"),
        (None, None, None),
        ("  ", None, None),
        ("osd", None, None),
    ],
)
def test_language_codes(code: str | None, iso1: str | None, pack: str | None):
    assert to_iso1(code) == iso1
    assert to_tesseract(code) == pack


def test_tesseract_languages_add_english_when_shipped():
    assert tesseract_languages("es", SHIPPED_TESSERACT_LANGUAGES) == "spa+eng"
    assert tesseract_languages("en", SHIPPED_TESSERACT_LANGUAGES) == "eng"
    assert tesseract_languages("fr", ["fra", "deu"]) == "fra"
    assert tesseract_languages("nl", SHIPPED_TESSERACT_LANGUAGES) is None
    assert tesseract_languages(None, SHIPPED_TESSERACT_LANGUAGES) is None


def test_choose_ocr_languages():
    assert choose_ocr_languages(["es"]) == ("spa+eng", "es")
    assert choose_ocr_languages(["por"]) == ("por+eng", "pt")
    # No declared language: the text decides; no text either: every pack.
    assert choose_ocr_languages([None], text=PARAGRAPHS["it"]) == ("ita+eng", "it")
    assert choose_ocr_languages([None]) == (SHIPPED_TESSERACT_LANGUAGES, None)
    # A declared language we have no pack for does not block detection.
    assert choose_ocr_languages(["nl"], text=PARAGRAPHS["de"]) == ("deu+eng", "de")
    assert choose_ocr_languages(["es"], "eng") == ("eng", None)
    # The first hint with a pack wins over later ones and over the text.
    assert choose_ocr_languages([None, "fr", "es"], text=PARAGRAPHS["de"]) == ("fra+eng", "fr")
