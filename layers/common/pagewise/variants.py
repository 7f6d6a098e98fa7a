"""The job's downloadable outputs: their variants, S3 keys, file names and content types.

Light on purpose: the API imports it to answer ``/download?variant=`` and ``/result``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Variant = Literal["report", "overlay", "searchable", "docx"]
VARIANTS: tuple[Variant, ...] = get_args(Variant)
DEFAULT_VARIANT: Variant = "report"
PreviewKind = Literal["source", "overlay"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class OutputKind:
    suffix: str  # appended to the upload's stem: contrato.pdf -> contrato_overlay.pdf
    content_type: str
    description: str


OUTPUT_KINDS: dict[Variant, OutputKind] = {
    "report": OutputKind(
        "_translated.pdf", PDF, "The translated report: a cover with the summary, then each page."
    ),
    "overlay": OutputKind(
        "_overlay.pdf", PDF, "Each source page with the legal English set where its text was."
    ),
    "searchable": OutputKind(
        "_searchable.pdf", PDF, "The original with an invisible OCR text layer: searchable."
    ),
    "docx": OutputKind(
        "_translated.docx", DOCX, "The translation as a Word document, a section per page."
    ),
}


def file_stem(file_name: str) -> str:
    return file_name.rsplit(".", 1)[0] or "document"


def output_file_name(file_name: str, variant: Variant) -> str:
    return file_stem(file_name) + OUTPUT_KINDS[variant].suffix


def output_key(tenant: str, job_id: str, file_name: str, variant: Variant) -> str:
    return f"outputs/{tenant}/{job_id}/{output_file_name(file_name, variant)}"


def preview_key(tenant: str, job_id: str, page: int, kind: PreviewKind) -> str:
    return f"outputs/{tenant}/{job_id}/previews/page-{page:05d}-{kind}.png"
