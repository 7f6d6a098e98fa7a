"""S3 keys and download names made from what a caller sent: any file name, any tenant id.

S3 keys are at most 1024 bytes of UTF-8, so names are bounded in bytes, never characters.
A key part never holds a path separator, a control character or ``..``. (The download's
``Content-Disposition`` is data.storage.content_disposition's.)
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from urllib.parse import unquote_plus

# A tenant id (the token's subject) this long or shorter is in its key as base64url; a longer
# one as "~" and its SHA-256 (OpenID Connect caps a subject at 255 ASCII characters).
MAX_TENANT_BYTES = 255
# The longest file name a caller may give (most file systems' own limit), in UTF-8 bytes.
MAX_FILE_NAME_BYTES = 255
# The file-name part of a key: "uploads/" + tenant (at most 344) + "/" + job id (24) + "/"
# + this stays under S3's 1024 bytes, and so does the output key (a suffix added).
MAX_KEY_NAME_BYTES = 200
_UNSAFE_IN_KEY = re.compile(r"[^\w.\- ]+")


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that fits in ``max_bytes`` (never half a character)."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _printable(name: str) -> str:
    """The name's last path part, control characters as spaces, runs of spaces as one."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in base)
    return " ".join(unicodedata.normalize("NFC", base).split())


def _bounded(stem: str, suffix: str, max_bytes: int) -> str:
    return _cut_utf8(stem, max_bytes - utf8_length(suffix)).rstrip(" .") + suffix


def safe_file_name(name: str) -> str:
    """A file name fit for an S3 key part: no directories, no control characters, no
    traversal, at most MAX_KEY_NAME_BYTES bytes with its extension kept."""
    base = _UNSAFE_IN_KEY.sub("_", _printable(name)).strip(" .")
    stem, dot, extension = base.rpartition(".")
    if not dot or utf8_length(extension) > 16:
        stem, extension = base, ""
    suffix = f".{extension}" if extension else ""
    return _bounded(stem, suffix, MAX_KEY_NAME_BYTES).strip(" .") or "document"


def _stem(file_name: str) -> str:
    return _printable(file_name).rsplit(".", 1)[0].strip(" .")


def output_file_name(file_name: str, suffix: str) -> str:
    """An output's key part: the safe stem of the upload's name and the variant's suffix."""
    stem = _UNSAFE_IN_KEY.sub("_", _stem(file_name)).strip(" .")
    return _bounded(stem or "document", suffix, MAX_KEY_NAME_BYTES)


def tenant_part(tenant: str) -> str:
    """The tenant's key part: any subject ("john+test@example.com", "org/alice") as URL- and
    key-safe characters only ([A-Za-z0-9_-], or "~" and hex), so that no decoding of an event
    key and no split on "/" can change it."""
    raw = tenant.encode("utf-8")
    if len(raw) <= MAX_TENANT_BYTES:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return "~" + hashlib.sha256(raw).hexdigest()


def upload_key(tenant: str, job_id: str, file_name: str) -> str:
    return f"uploads/{tenant_part(tenant)}/{job_id}/{safe_file_name(file_name)}"


def source_key(job_id: str) -> str:
    """Where Ingest copies the upload before checking it: no presigned form can write here
    (a form pins its own uploads/ key), so what Ingest and Prepare checked is what every later
    step reads, even if the upload form is posted again."""
    return f"work/{job_id}/source"


def object_key_from_event(event_key: str) -> str:
    """The object's key from an S3 event notification, which form-encodes it: decoded once,
    here, and never again."""
    return unquote_plus(event_key)
