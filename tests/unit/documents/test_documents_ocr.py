from __future__ import annotations

import io
import re
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
    char_error_rate,
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
from pagewise.documents.layout import Box
from pagewise.documents.ocr import ENGINE_NAME, OcrEngine, PageText, extract_page, render_dpi
from pagewise.documents.ocr.engine import (
    Line,
    Paragraph,
    Recognition,
    TesserocrEngine,
    Word,
    layer_data_dir,
    shared_engine,
)
from pagewise.documents.ocr.raster import Raster
from pagewise.documents.ocr.reader import osd_rotation
from pagewise.documents.ocr.text_layer import TextLayer, is_usable_text_layer, ocr_reason

from tests.unit.conftest import SpyEngine

EngineCalls = tuple[SpyEngine, Callable[[], list[str]]]

# The OCR layer's engine and traineddata (`make dev`); missing, the test fails (no skip).
needs_engine = pytest.mark.usefixtures("layer_engine")


def test_born_digital_page_uses_text_layer(born_digital_pdf: bytes):
    result = extract_page(born_digital_pdf, 1, data_dir="/nonexistent/tessdata")
    # The bogus traineddata path proves the engine was never even looked up.
    assert result.source == "text_layer"
    assert result.text == "\n".join(LEGAL_LINES)
    assert result.confidence is None
    assert result.page == 1


def test_blank_page_skips_the_engine(blank_pdf: bytes):
    # A flat page is recognised without running (or loading) the engine at all.
    result = extract_page(blank_pdf, 1, data_dir="/nonexistent/tessdata")
    assert (result.source, result.text, result.confidence) == ("blank", "", None)


def test_short_text_layer_is_kept_when_ocr_finds_nothing():
    doc = pymupdf.open()
    page = doc.new_page()
    # A real but short text layer (below min_text_chars), drawn in white so the rendered page
    # is flat and OCR finds nothing: the layer must win over "blank".
    page.insert_text((72, 72), "Page 3", fontsize=11, color=(1, 1, 1))
    result = extract_page(doc.tobytes(), 1, data_dir="/nonexistent/tessdata")
    assert (result.source, result.text) == ("text_layer", "Page 3")


def test_garbage_text_layer_is_not_trusted():
    assert not is_usable_text_layer("\ufffd" * 40, 20)
    assert not is_usable_text_layer("%$#@!&*()" * 5, 20)
    assert not is_usable_text_layer("too short", 20)
    assert is_usable_text_layer("Señor Müller signed the résumé on 3 May.", 20)


def test_page_number_out_of_range(born_digital_pdf: bytes):
    with pytest.raises(ValueError):
        extract_page(born_digital_pdf, 2)
    with pytest.raises(ValueError):
        extract_page(born_digital_pdf, 0)


def test_recognition_rebuilds_lines_and_paragraphs():
    def word(text: str, confidence: float) -> Word:
        return Word(text, confidence, (0, 0, 1, 1))

    box = (0, 0, 10, 10)
    reading = Recognition(
        (
            Paragraph(
                box,
                (
                    Line(box, (word("Hello", 90), word('"world"', 80))),
                    Line(box, (word("second", 70),)),
                ),
            ),
            Paragraph(box, (Line(box, (word("Next", 60), word("?", -1))),)),
        )
    )
    assert reading.text == 'Hello "world"\nsecond\n\nNext ?'
    assert reading.confidence == 75.0  # a word without a confidence (-1) does not count
    assert reading.word_count == 5
    assert (Recognition().text, Recognition().confidence) == ("", None)


@needs_engine
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


@needs_engine
def test_png_page_is_ocrd(png_bytes: bytes):
    result = extract_page(png_bytes, 1)
    assert result.source == "ocr"
    assert char_error_rate("\n".join(LEGAL_LINES), result.text) < 0.05


@needs_engine
def test_second_tiff_page_is_ocrd():
    tiff = multipage_tiff(
        [["First page of the exhibit."], ["Second page of the exhibit."]], dpi=300
    )
    result = extract_page(tiff, 2)
    assert result.source == "ocr"
    assert "Second page of the exhibit" in result.text


@needs_engine
def test_a_language_without_traineddata_is_ocr_engine_missing(scanned_page_pdf: bytes):
    with pytest.raises(DocumentError) as info:
        extract_page(scanned_page_pdf, 1, languages="nosuchlanguage")
    assert info.value.error_code == "ocr_engine_missing"
    assert "nosuchlanguage" in info.value.message


def test_missing_traineddata_is_ocr_engine_missing(scanned_page_pdf: bytes, tmp_path: Path):
    # No directory, or one without the packs: a clear error, never the host's tessdata.
    for data_dir in (tmp_path / "absent", tmp_path):
        with pytest.raises(DocumentError) as info:
            extract_page(scanned_page_pdf, 1, data_dir=data_dir, source_language="en")
        assert info.value.error_code == "ocr_engine_missing", data_dir
        assert str(data_dir) in info.value.message


def test_the_engine_reads_the_layers_traineddata_only():
    # tessdata/ beside the layer's python/ folder that holds tesserocr: /opt/tessdata in AWS.
    import tesserocr

    assert layer_data_dir() == Path(tesserocr.__file__).resolve().parents[2] / "tessdata"
    assert not str(layer_data_dir()).startswith("/usr/")


def test_encrypted_pdf_cannot_be_extracted(born_digital_pdf: bytes):
    locked = encrypt_pdf(born_digital_pdf, user_pw="user")
    with pytest.raises(DocumentError) as info:
        extract_page(locked, 1)
    assert info.value.error_code == "encrypted_pdf"


# --- deciding per page, without OCR ----------------------------------------------------------


def test_born_digital_page_is_never_ocrd(failing_engine: OcrEngine):
    # A Spanish page with accents, read from its text layer: an engine that fails the test
    # proves it never ran, and the layer still gives the page's language.
    doc = born_digital(PARAGRAPHS["es"])
    result = extract_page(doc.tobytes(), 1, engine=failing_engine)
    assert (result.source, result.reason, result.ocr_seconds) == ("text_layer", None, 0.0)
    assert normalised(result.text) == normalised(doc[0].get_text())
    assert "Núñez" in result.text
    assert result.language == "es"
    assert (result.dpi, result.ocr_languages, result.rotation) == (None, None, 0)


def test_blank_scan_is_blank_without_the_engine(failing_engine: OcrEngine):
    white = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 850, 1100), False)
    white.clear_with(255)
    result = extract_page(image_pdf(white, dpi=100).tobytes(), 1, engine=failing_engine)
    assert (result.source, result.text, result.reason) == ("blank", "", "no_text_layer")
    assert result.dpi == 200  # a 100-dpi scan is read at the 200-dpi floor


@pytest.mark.parametrize(
    ("layer", "is_pdf", "reason"),
    [
        (TextLayer("A real paragraph of born-digital text.", 0.0, 0.3, 0.0), True, None),
        (TextLayer("", 0.0, 0.0, 1.0), True, "no_text_layer"),
        (TextLayer("", 0.0, 0.0, 0.0), False, "image_file"),
        (TextLayer("Page 3", 0.0, 0.01, 0.0), True, "short_text_layer"),
        (TextLayer("\ufffd" * 30 + "abc", 0.0, 0.3, 0.0), True, "garbled_text_layer"),
        (
            TextLayer("A hidden layer of old OCR text here.", 0.9, 0.0, 1.0),
            True,
            "invisible_text_layer",
        ),
        (TextLayer("CONFIDENTIAL - EXHIBIT 0001234", 0.0, 0.01, 1.0), True, "text_stamp_on_scan"),
        (TextLayer("COPY", 0.0, 0.01, 1.0), True, "text_stamp_on_scan"),
        # Glyph ids from a font without a ToUnicode map: letters, but not text.
        (
            TextLayer("(O DUUHQGDWDULR SDJDU OD UHQWD", 0.0, 0.3, 0.0, 1.0),
            True,
            "garbled_text_layer",
        ),
        # A page-sized background image under a real page of text is not a scan.
        (TextLayer("A real paragraph of born-digital text.", 0.0, 0.4, 1.0), True, None),
    ],
)
def test_why_a_page_is_ocrd(layer: TextLayer, is_pdf: bool, reason: str | None):
    assert ocr_reason(layer, is_pdf=is_pdf, min_text_chars=20) == reason


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


def test_osd_rotation():
    assert osd_rotation(270, 7.74) == 270
    assert osd_rotation(270, 0.3) == 0  # too unsure to act on
    assert osd_rotation(0, 9.0) == 0
    assert osd_rotation(450, 9.0) == 90


@pytest.mark.parametrize("skew", [0.0, 0.8, 2.0, -2.0, -3.5])
def test_skew_is_measured(skew: float):
    page = born_digital((PARAGRAPHS["en"] + " ") * 2)[0]
    pix = scan(page, dpi=150, skew=skew)
    raster = Raster(pix.samples_mv.tobytes(), pix.width, pix.height)
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


@needs_engine
@pytest.mark.parametrize("language", list(PARAGRAPHS))
def test_clean_scan_in_each_language_is_read_with_its_own_pack(
    language: str, engine_calls: EngineCalls
):
    # The language is not given: the probe detects it and the page is read with its pack.
    engine, calls = engine_calls
    page = born_digital(PARAGRAPHS[language])[0]
    result = extract_page(image_pdf(scan(page)).tobytes(), 1, engine=engine)
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


@needs_engine
def test_source_language_skips_the_probe(engine_calls: EngineCalls):
    engine, calls = engine_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    data = image_pdf(scan(page)).tobytes()
    for declared in ("es", "spa", "Spanish"):
        result = extract_page(data, 1, engine=engine, source_language=declared)
        assert (result.ocr_languages, result.language) == ("spa+eng", "es")
        assert char_error_rate(page.get_text(), result.text) < 0.01
    assert len(calls()) == 3  # one pass each


@needs_engine
def test_document_language_skips_the_probe_and_a_wrong_one_is_corrected(
    engine_calls: EngineCalls,
):
    engine, calls = engine_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    data = image_pdf(scan(page)).tobytes()
    right = extract_page(data, 1, engine=engine, document_language="es")
    assert (right.ocr_languages, right.language) == ("spa+eng", "es")
    assert len(calls()) == 1  # the page pass only
    # Earlier pages were French: this page reads as Spanish, so it is read again with spa.
    wrong = extract_page(data, 1, engine=engine, document_language="fr")
    assert (wrong.ocr_languages, wrong.language) == ("spa+eng", "es")
    assert [c.split(" --psm")[0] for c in calls()[1:]] == ["-l fra+eng", "-l spa+eng"]
    assert char_error_rate(page.get_text(), wrong.text) < 0.01


@needs_engine
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


@needs_engine
@pytest.mark.parametrize(("skew", "noise"), [(2.0, 25.0), (-2.0, 40.0)])
def test_skewed_noisy_scan_is_still_read(skew: float, noise: float):
    page = born_digital(PARAGRAPHS["en"])[0]
    label = f"skew {skew} noise {noise}"
    result = extract_page(image_pdf(scan(page, skew=skew, noise=noise)).tobytes(), 1)
    _assert_reads(result, page.get_text(), 0.02, label)
    assert result.deskew == pytest.approx(-skew, abs=0.2)


class _EngineWithoutOsd(SpyEngine):
    def orientation(self, image: Raster, *, dpi: int, min_characters: int) -> tuple[int, float]:
        raise DocumentError("ocr_failed", "no osd")


def test_failing_osd_keeps_the_page_as_it_is(layer_engine: TesserocrEngine):
    # OSD that fails (no osd pack, a sparse page): the page is still read, not failed.
    page = born_digital(PARAGRAPHS["en"])[0]
    engine = _EngineWithoutOsd(layer_engine)
    result = extract_page(image_pdf(scan(page, rotate=180)).tobytes(), 1, engine=engine)
    assert (result.source, result.rotation) == ("ocr", 0)


@needs_engine
def test_scan_at_200_dpi(engine_calls: EngineCalls):
    engine, calls = engine_calls
    page = born_digital(PARAGRAPHS["es"])[0]
    result = extract_page(
        image_pdf(scan(page, dpi=200), dpi=200).tobytes(),
        1,
        engine=engine,
        source_language="es",
    )
    _assert_reads(result, page.get_text(), 0.01, "200 dpi")
    assert result.dpi == 200
    assert "--dpi 200" in calls()[0]


@needs_engine
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


@needs_engine
def test_text_stamp_on_a_scan_is_ocrd_with_the_scan():
    page = born_digital(PARAGRAPHS["es"])[0]
    doc = image_pdf(scan(page))
    doc[0].insert_text((doc[0].rect.width - 150, 20), "COPIA 000123", fontsize=8)
    result = extract_page(doc.tobytes(), 1)
    assert result.reason == "text_stamp_on_scan"
    assert "Núñez" in result.text and "000123" in result.text
    _assert_reads(result, "COPIA 000123 " + page.get_text(), 0.01, "stamp")


@needs_engine
def test_outlined_text_is_ocrd():
    source = born_digital(PARAGRAPHS["fr"])
    result = extract_page(outlined(source), 1)
    assert result.reason == "no_text_layer"
    assert result.language == "fr"
    assert result.dpi == 300  # no scan to take a resolution from
    _assert_reads(result, source[0].get_text(), 0.01, "outlined")


@needs_engine
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


@needs_engine
def test_timeout_is_ocr_failed(scanned_page_pdf: bytes):
    with pytest.raises(DocumentError) as info:
        extract_page(scanned_page_pdf, 1, timeout_seconds=0.01)
    assert info.value.error_code == "ocr_failed"


def test_default_languages_are_the_shipped_packs():
    assert SHIPPED_TESSERACT_LANGUAGES == "eng+spa+fra+deu+ita+por+cat"


@needs_engine
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


# --- the engine in process, and the page's layout ----------------------------------------------


@needs_engine
def test_the_engine_stays_warm_and_names_itself(scanned_page_pdf: bytes):
    first = extract_page(scanned_page_pdf, 1, source_language="en")
    api = shared_engine()._apis["eng"]
    second = extract_page(scanned_page_pdf, 1, source_language="en")
    assert shared_engine()._apis["eng"] is api  # initialised once, reused by the next page
    assert first.text == second.text
    assert first.engine == second.engine == ENGINE_NAME
    assert re.fullmatch(r"tesserocr 2\.13\.0 / tesseract 5\.5\.4", ENGINE_NAME), ENGINE_NAME


def _word_boxes(page: pymupdf.Page) -> dict[str, Box]:
    """The born-digital page's words that occur once, with their boxes."""
    words = page.get_text("words")
    counts: dict[str, int] = {}
    for word in words:
        counts[word[4]] = counts.get(word[4], 0) + 1
    return {w[4]: Box(x0=w[0], y0=w[1], x1=w[2], y1=w[3]) for w in words if counts[w[4]] == 1}


def _turned(box: Box, width: float, height: float) -> Box:
    """``box`` on a page shown turned by 180 degrees."""
    return Box(x0=width - box.x1, y0=height - box.y1, x1=width - box.x0, y1=height - box.y0)


@needs_engine
@pytest.mark.parametrize("rotate", [0, 180])
def test_an_ocrd_page_has_its_layout_in_pdf_points(rotate: int):
    # The scan shows the born-digital page at the same size, so each OCR'd word must sit where
    # the text layer has it; a scan fed in upside down is read turned, and its boxes must be
    # where the words are on the page as shown (turned back), not on the raster read.
    source = born_digital(PARAGRAPHS["es"])[0]
    doc = image_pdf(scan(source, rotate=rotate))
    result = extract_page(doc.tobytes(), 1, source_language="es")
    layout = result.layout
    assert layout is not None and result.rotation == (360 - rotate) % 360
    assert (layout.page, layout.source) == (1, "ocr")
    assert (layout.width, layout.height) == pytest.approx((doc[0].rect.width, doc[0].rect.height))
    assert [block.id for block in layout.blocks] == [
        f"b{n}" for n in range(1, len(layout.blocks) + 1)
    ]
    assert layout.text == result.text
    truth = _word_boxes(source)
    words = [word for block in layout.blocks for line in block.lines for word in line.words]
    matched = [word for word in words if word.text in truth]
    assert len(matched) > 0.8 * len(truth)
    for word in matched:
        expected = truth[word.text]
        if rotate:
            expected = _turned(expected, layout.width, layout.height)
        # The text layer's box spans the font's ascent and descent, OCR's the ink: the ink's
        # centre lies inside, and both span the same width.
        centre = ((word.box.x0 + word.box.x1) / 2, (word.box.y0 + word.box.y1) / 2)
        assert expected.x0 < centre[0] < expected.x1, (word, expected)
        assert expected.y0 < centre[1] < expected.y1, (word, expected)
        assert word.box.width == pytest.approx(expected.width, abs=3), (word, expected)
        assert word.confidence is not None and 0 <= word.confidence <= 100
    for block in layout.blocks:  # a block's box holds its lines' boxes
        for line in block.lines:
            assert block.box.x0 - 1 <= line.box.x0 and line.box.x1 <= block.box.x1 + 1


@needs_engine
def test_a_rotated_pdf_pages_layout_is_in_the_shown_pages_points():
    # /Rotate 90: PyMuPDF shows the page turned (page.rect has its sides swapped); the
    # layout's boxes are where the words are on that shown page.
    source = born_digital(PARAGRAPHS["es"])[0]
    doc = image_pdf(scan(source))
    doc[0].set_rotation(90)
    result = extract_page(doc.tobytes(), 1, source_language="es")
    layout = result.layout
    assert layout is not None
    assert (layout.width, layout.height) == pytest.approx((doc[0].rect.width, doc[0].rect.height))
    truth = _word_boxes(source)
    shown = doc[0].rotation_matrix
    matched = [
        (word, pymupdf.Rect(truth[word.text].x0, truth[word.text].y0, truth[word.text].x1,
                            truth[word.text].y1) * shown)
        for block in layout.blocks for line in block.lines for word in line.words
        if word.text in truth
    ]  # fmt: skip
    assert len(matched) > 0.8 * len(truth)
    for word, expected in matched:
        centre = pymupdf.Point((word.box.x0 + word.box.x1) / 2, (word.box.y0 + word.box.y1) / 2)
        assert centre in expected, (word, expected)


def test_text_layer_and_blank_pages_have_no_ocr_layout(
    born_digital_pdf: bytes, blank_pdf: bytes, failing_engine: OcrEngine
):
    for data in (born_digital_pdf, blank_pdf):
        result = extract_page(data, 1, engine=failing_engine)
        assert (result.layout, result.engine) == (None, None)
