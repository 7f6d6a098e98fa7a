"""What is sent: the email's subject and text, and the webhook's JSON body."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pagewise.documents.citations import CATEGORY_LABELS, CitedSummary, cite
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


@dataclass(frozen=True)
class EmailClaim:
    """The token's `email` claim as one plain address, and whether its provider verified it
    (`email_verified`): only a verified address is ever written to."""

    address: str
    verified: bool


def email_claim(claims: Mapping[str, object]) -> EmailClaim | None:
    """The token's address, if its `email` claim holds one, with its `email_verified` claim
    (true, or the string "true" as some providers send it; absent is not verified)."""
    address = clean_email(claims.get("email"))
    if address is None:
        return None
    verified = claims.get("email_verified")
    return EmailClaim(
        address, verified is True or (isinstance(verified, str) and verified.lower() == "true")
    )


# Characters that could end a line or reorder what is shown: controls (CR, LF, tab...),
# format characters (bidi overrides), line and paragraph separators.
_BREAKING = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _without_breaks(text: str) -> str:
    return "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)


def one_line(text: str, limit: int = 200) -> str:
    """Uploader text (a file name, a report id) fit for one line of the email's body: every
    line break or control character a space, runs of spaces one, at most ``limit`` long."""
    flat = " ".join(_without_breaks(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def quoted(text: str, limit: int = 2000) -> list[str]:
    """Uploader text of several lines (the summary, made from the document) as a quotation:
    every line starts with "> ", so none of it can pass for what Pagewise itself says."""
    lines = re.split(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", text[:limit])
    return ["> " + " ".join(_without_breaks(line).split()) for line in lines if line.strip()]


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


def key_fact_lines(cited: CitedSummary | None, limit: int = 12) -> list[str]:
    """The verified key facts (issue 17), quoted like the summary (they come from the
    document): "> Amounts: 800 € (p. 1)"; how many more were not verified, and not shown."""
    if cited is None or not (cited.shown_facts or cited.facts_unverified):
        return []
    lines = ["", "Key facts, each checked on the page it cites:"]
    lines += [
        f"> {CATEGORY_LABELS.get(fact.category, fact.category)}: "
        f"{one_line(fact.text)} ({cite([fact.page])})"
        for fact in cited.shown_facts[:limit]
    ]
    if cited.facts_unverified:
        lines.append(
            f"({cited.facts_unverified} more not shown: their quote was not found on the page "
            "they cite.)"
        )
    return lines


def email_message(job: Job, api_url: str) -> tuple[str, str]:
    """(subject, plain-text body): how the job ended.

    The subject holds nothing the uploader chose (only the job id and its status); in the body
    the file name and report id are one quoted line each and the summary a quotation.
    """
    status_url = f"{api_url.rstrip('/')}/api/v1/jobs/{job.job_id}"
    subject = f"Pagewise: job {job.job_id} {job.processing_status}"
    lines = []
    if job.processing_status == JobStatus.COMPLETED:
        lines += ["Your document is ready.", f'Document: "{one_line(job.file_name)}"']
    else:
        lines += ["Your document could not be processed.", f'Document: "{one_line(job.file_name)}"']
    if job.report_id:
        lines.append(f'Report: "{one_line(job.report_id)}"')
    if job.processing_status == JobStatus.COMPLETED:
        lines.append(f"{job.total_pages} page(s) read, translated and summarised.")
        if job.summary:
            lines += [
                "",
                "Summary, as generated from the document's own text:",
                *quoted(job.summary),
            ]
        lines += key_fact_lines(job.summary_cited)
        lines += ["", f"Status: {status_url}", f"Download the PDF: {status_url}/download"]
    else:
        reason = one_line(job.error_message or "no detail", limit=500)
        lines += [f"Reason ({job.error_code or 'unknown'}): {reason}", "", f"Status: {status_url}"]
    return subject, "\n".join(lines) + "\n"
