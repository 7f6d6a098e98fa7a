"""Fixtures for the document tests; the inputs are built by documents_inputs."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from documents_inputs import LEGAL_LINES, multipage_tiff, page_image, scanned_pdf, text_pdf


@pytest.fixture
def born_digital_pdf() -> bytes:
    return text_pdf(LEGAL_LINES).tobytes()


@pytest.fixture
def scanned_page_pdf() -> bytes:
    return scanned_pdf(LEGAL_LINES)


@pytest.fixture
def blank_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page()
    return doc.tobytes()


@pytest.fixture
def png_bytes() -> bytes:
    return page_image(LEGAL_LINES).tobytes("png")


@pytest.fixture
def two_page_tiff() -> bytes:
    return multipage_tiff([["Page one of the exhibit."], ["Page two of the exhibit."]])


@pytest.fixture
def failing_tesseract(tmp_path: Path) -> str:
    """A ``tesseract`` that fails loudly: a page that reaches OCR fails the test."""
    script = tmp_path / "tesseract-must-not-run"
    script.write_text("#!/bin/sh\necho 'tesseract must not run' >&2\nexit 97\n")
    script.chmod(0o755)
    return str(script)
