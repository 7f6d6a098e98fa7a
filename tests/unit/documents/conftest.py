"""Fixtures for the document tests; the inputs are built by documents_inputs."""

from __future__ import annotations

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


class EngineMustNotRun:
    """An OCR engine that fails the test when a page reaches it."""

    name = "must-not-run"

    def recognise(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR engine must not run for this page")

    def orientation(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR engine must not run for this page")


@pytest.fixture
def failing_engine() -> EngineMustNotRun:
    return EngineMustNotRun()
