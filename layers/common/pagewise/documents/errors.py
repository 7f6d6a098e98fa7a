"""The one error type the document library raises for problems with the input document."""

from __future__ import annotations


class DocumentError(Exception):
    """A document that cannot be processed, with a machine-readable code for the job record.

    Codes: ``unsupported_file_type``, ``corrupt_document``, ``empty_document``,
    ``encrypted_pdf``, ``ocr_failed``, ``ocr_engine_missing`` (not the document's fault: the
    function lacks its OCR layer).
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message

    def __reduce__(self) -> tuple[type[DocumentError], tuple[str, str]]:
        # Exceptions cross process boundaries (pages run in worker processes); the default
        # pickling would call __init__ with the single formatted string and fail.
        return (type(self), (self.error_code, self.message))
