"""What is sent: the email's subject and text, and the webhook's JSON body."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pagewise.models import Job, JobStatus

# Loose on purpose: the identity provider vouches for the claim; this only keeps obvious junk
# (and header injection) out of SES's Destination.
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,253}\.[^@\s<>,;\".]{2,63}$")


def clean_email(claim: object) -> str | None:
    """The token's `email` claim if it looks like one address, else None (no email sent)."""
    if not isinstance(claim, str):
        return None
    address = claim.strip()
    return address if _EMAIL.match(address) else None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


def webhook_payload(job: Job, api_url: str) -> dict[str, Any]:
    base = f"{api_url.rstrip('/')}/api/v1/jobs/{job.job_id}"
    completed = job.processing_status == JobStatus.COMPLETED
    return {
        "event": f"job.{job.processing_status}",
        "job_id": job.job_id,
        "document_id": job.job_id,
        "status": str(job.processing_status),
        "error_code": job.error_code,
        "error_message": job.error_message,
        "file_name": job.file_name,
        "client_name": job.client_name,
        "report_id": job.report_id,
        "total_pages": job.total_pages,
        "created_at": _iso(job.created_at),
        "completed_at": _iso(job.completed_at),
        "status_url": base,
        "result_url": f"{base}/result" if completed else None,
        "download_url": f"{base}/download" if completed else None,
    }


def email_message(job: Job, api_url: str) -> tuple[str, str]:
    """(subject, plain-text body): the document's name and how it ended."""
    status_url = f"{api_url.rstrip('/')}/api/v1/jobs/{job.job_id}"
    if job.processing_status == JobStatus.COMPLETED:
        subject = f'Pagewise: "{job.file_name}" is ready (completed)'
        pages = f"{job.total_pages} page(s) read, translated and summarised."
        lines = [f'Your document "{job.file_name}" is ready.', pages]
        if job.summary:
            lines += ["", "Summary:", job.summary[:2000]]
        lines += ["", f"Status: {status_url}", f"Download the PDF: {status_url}/download"]
    else:
        subject = f'Pagewise: "{job.file_name}" failed'
        lines = [
            f'Your document "{job.file_name}" could not be processed.',
            f"Reason ({job.error_code or 'unknown'}): {job.error_message or 'no detail'}",
            "",
            f"Status: {status_url}",
        ]
    if job.report_id:
        lines.insert(1, f"Report: {job.report_id}")
    return subject, "\n".join(lines) + "\n"
