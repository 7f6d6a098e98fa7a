"""The one error type the document library raises for problems with the input document."""

from __future__ import annotations

from pagewise.errors import CodedError


class DocumentError(CodedError):
    """A document that cannot be processed, with a machine-readable code for the job record.

    Codes: ``unsupported_file_type``, ``corrupt_document``, ``empty_document``,
    ``encrypted_pdf``, ``ocr_failed``, ``ocr_engine_missing`` (not the document's fault: the
    function lacks its OCR layer).
    """
