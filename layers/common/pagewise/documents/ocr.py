"""Per-page text: the PDF text layer when it is usable, otherwise Tesseract OCR."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Literal

import pymupdf

from pagewise.documents.errors import DocumentError
from pagewise.documents.pages import open_document

Source = Literal["text_layer", "ocr", "blank"]

# How much of a text layer may be undecodable glyphs (U+FFFD, controls, private use) before we
# distrust it: PDFs with broken font encodings yield such garbage and OCR does better.
_MAX_BAD_CHAR_RATIO = 0.05
# Real text is mostly letters and digits; a layer of punctuation/symbol soup is not usable.
_MIN_ALNUM_RATIO = 0.5
# Never rasterise below this: Tesseract accuracy collapses under ~200 dpi.
_MIN_DPI = 200
# How much of stderr to keep in an error message; the job record is not a log.
_STDERR_SUMMARY_CHARS = 500


@dataclass(frozen=True)
class PageText:
    """The text of one page. ``confidence`` is Tesseract's mean word confidence (0-100)."""

    page: int
    text: str
    source: Source
    confidence: float | None
    ocr_seconds: float


def extract_page(
    data: bytes,
    page_number: int,
    *,
    tesseract_cmd: str = "tesseract",
    languages: str = "eng",
    dpi: int = 300,
    min_text_chars: int = 20,
    timeout_seconds: float | None = None,
) -> PageText:
    """Return the text of page ``page_number`` (1-based) of a PDF or image document.

    Raises ``DocumentError`` for unreadable documents and OCR failures, and ``ValueError`` for
    a page number outside the document (a caller bug, not a property of the document).
    """
    with open_document(data) as doc:
        if not 1 <= page_number <= doc.page_count:
            raise ValueError(f"page_number {page_number} is outside 1..{doc.page_count}")
        try:
            page = doc.load_page(page_number - 1)
            layer_text = _clean_text(page.get_text("text", sort=True)) if doc.is_pdf else ""
        except Exception as exc:
            raise DocumentError(
                "corrupt_document", f"Page {page_number} could not be read: {exc}"
            ) from exc

        if _is_usable_text_layer(layer_text, min_text_chars):
            return PageText(page_number, layer_text, "text_layer", None, 0.0)

        started = time.perf_counter()
        pnm, effective_dpi = _rasterise(page, doc.is_pdf, max(dpi, _MIN_DPI), page_number)

    if pnm is None:
        # A uniformly coloured page has nothing to read; skip the Tesseract process entirely.
        text, confidence = "", None
    else:
        text, confidence = _run_tesseract(
            pnm, tesseract_cmd, languages, effective_dpi, timeout_seconds
        )
    elapsed = time.perf_counter() - started

    if text.strip():
        return PageText(page_number, text, "ocr", confidence, elapsed)
    # A short born-digital page (a lone heading, "Page 3") is below min_text_chars and OCR may
    # miss it too; its clean text layer is still better than calling the page blank.
    if layer_text and _is_clean(layer_text):
        return PageText(page_number, layer_text, "text_layer", None, elapsed)
    return PageText(page_number, "", "blank", confidence, elapsed)


def _clean_text(text: str) -> str:
    """Drop trailing spaces per line and surrounding blank lines; keep line structure."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _is_bad_char(ch: str) -> bool:
    code = ord(ch)
    return ch == "\ufffd" or (code < 32 and ch not in "\t\n\r") or 0xE000 <= code <= 0xF8FF


def _is_clean(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    bad = sum(1 for c in chars if _is_bad_char(c))
    alnum = sum(1 for c in chars if c.isalnum())
    return bad / len(chars) <= _MAX_BAD_CHAR_RATIO and alnum / len(chars) >= _MIN_ALNUM_RATIO


def _is_usable_text_layer(text: str, min_text_chars: int) -> bool:
    visible = sum(1 for c in text if not c.isspace())
    return visible >= max(min_text_chars, 1) and _is_clean(text)


def _rasterise(
    page: pymupdf.Page, is_pdf: bool, dpi: int, page_number: int
) -> tuple[bytes | None, int]:
    """Render the page to greyscale PNM bytes; ``None`` when the page is one flat colour.

    PNM, not PNG: Tesseract reads it without decompression and PNG encoding of a 300-dpi page
    costs about half a second.
    """
    try:
        if is_pdf:
            pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
            effective_dpi = dpi
        else:
            # An image page: render at its own pixel size. Resampling adds no information, and
            # MuPDF assumes 96 dpi for images without a resolution, so "300 dpi" would blow a
            # plain scan up threefold and slow Tesseract down for nothing.
            info = page.get_image_info()
            zoom = 1.0
            effective_dpi = dpi
            if info and info[0]["bbox"][2] > info[0]["bbox"][0]:
                bbox = pymupdf.Rect(info[0]["bbox"])
                zoom = info[0]["width"] / bbox.width
                effective_dpi = int(info[0].get("xres") or dpi)
            pix = page.get_pixmap(
                matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY, alpha=False
            )
        if _is_flat(pix):
            return None, effective_dpi
        return pix.tobytes("pnm"), effective_dpi
    except Exception as exc:
        raise DocumentError(
            "corrupt_document", f"Page {page_number} could not be rendered: {exc}"
        ) from exc


def _is_flat(pix: pymupdf.Pixmap) -> bool:
    """True when every pixel of a one-channel pixmap has the same value.

    Not ``Pixmap.is_unicolor``: in PyMuPDF 1.28 that loops in Python and takes ~10 s on a
    300-dpi page; ``bytes.count`` does the same check in milliseconds.
    """
    samples = pix.samples_mv.tobytes()
    return not samples or samples.count(samples[:1]) == len(samples)


def _run_tesseract(
    pnm: bytes,
    tesseract_cmd: str,
    languages: str,
    dpi: int,
    timeout_seconds: float | None,
) -> tuple[str, float | None]:
    # One thread per Tesseract: its OpenMP threading is 3-4x slower than running pages in
    # parallel processes on small machines.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    # --dpi: PNM carries no resolution and Tesseract would otherwise guess (and warn).
    cmd = [tesseract_cmd, "stdin", "stdout", "-l", languages, "--psm", "3", "--dpi", str(dpi)]
    cmd.append("tsv")
    try:
        proc = subprocess.run(
            cmd, input=pnm, capture_output=True, env=env, timeout=timeout_seconds, check=False
        )
    except FileNotFoundError as exc:
        raise DocumentError("ocr_failed", f"Tesseract is not installed ({tesseract_cmd}).") from exc
    except subprocess.TimeoutExpired as exc:
        raise DocumentError(
            "ocr_failed", f"Tesseract took longer than {timeout_seconds}s."
        ) from exc
    except OSError as exc:
        raise DocumentError("ocr_failed", f"Tesseract could not be started: {exc}") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip()[-_STDERR_SUMMARY_CHARS:]
        raise DocumentError(
            "ocr_failed", f"Tesseract exited with status {proc.returncode}: {stderr}"
        )
    return parse_tsv(proc.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> tuple[str, float | None]:
    """Rebuild text from Tesseract TSV and return it with the mean word confidence.

    Words on one line are joined by spaces, lines by a newline, and paragraphs/blocks by a
    blank line, so the translator sees the document's structure.
    """
    # Tesseract's words may contain quotes; TSV has no quoting, so disable it.
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    paragraphs: dict[tuple[int, int, int], dict[int, list[str]]] = {}
    confidences: list[float] = []
    for row in reader:
        if row.get("level") != "5":
            continue
        word = (row.get("text") or "").strip()
        if not word:
            continue
        try:
            key = (int(row["page_num"]), int(row["block_num"]), int(row["par_num"]))
            line = int(row["line_num"])
            conf = float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        paragraphs.setdefault(key, {}).setdefault(line, []).append(word)
        if conf >= 0:
            confidences.append(conf)
    # Tesseract emits rows in reading order; dicts keep insertion order, so no sort is needed.
    text = "\n\n".join(
        "\n".join(" ".join(words) for words in lines.values()) for lines in paragraphs.values()
    )
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    return text, confidence
