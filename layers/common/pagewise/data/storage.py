"""S3: the uploads bucket (originals under uploads/, rendered PDFs under outputs/, a job's
intermediate objects under work/{job_id}/)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def work_prefix(job_id: str) -> str:
    """Where a job's intermediate objects are (page layouts, the report text): deleted with
    the job, and expired with it (RetentionDays)."""
    return f"work/{job_id}/"


_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9 ._()\-]")


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the UTF-8 ``filename*`` (RFC 6266,
    RFC 8187); control characters (CR, LF) become spaces in both."""
    name = " ".join(
        "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in file_name).split()
    )
    # Every character outside plain ASCII letters, digits and " ._()-" becomes "_".
    fallback = _NOT_PLAIN_ASCII.sub("_", name).strip(" ") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str | None


class DocumentStore:
    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        # boto3 honours AWS_ENDPOINT_URL, which is how functions reach LocalStack. Presigned
        # URLs and POST policies are signed with SigV4 (SigV2 is deprecated, and refused in
        # newer regions).
        self._s3: S3Client = client or boto3.client("s3", config=Config(signature_version="s3v4"))
        self._kept: tuple[str, str, bytes] | None = None  # read_again: key, ETag, body

    def presigned_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedUpload:
        """A presigned POST whose policy pins the exact key, the type and the size range."""
        post: dict[str, Any] = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"bucket": self.bucket},
                ["eq", "$key", key],
                ["eq", "$Content-Type", content_type],
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return PresignedUpload(url=post["url"], fields=dict(post["fields"]))

    def presigned_download(
        self, key: str, file_name: str, expires_in: int, content_type: str = "application/pdf"
    ) -> str:
        """A GET that downloads as ``file_name`` (RFC 6266: see content_disposition)."""
        disposition = content_disposition(file_name)
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_in,
        )
        return url

    def presigned_view(self, key: str, expires_in: int) -> str:
        """A GET shown in place (an <img> source), with the stored content type."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def head(self, key: str) -> StoredObject | None:
        try:
            response = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(
            size=response["ContentLength"], content_type=response.get("ContentType")
        )

    def read_prefix(self, key: str, length: int) -> bytes:
        response = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
        return response["Body"].read()

    def read(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def read_again(self, key: str, *, unchanging: bool = False) -> bytes:
        """``read``, keeping the last object read this way: a warm execution environment
        that reads the same upload for another page (each OcrPage reads the whole document)
        gets it back with a conditional GET, 304 Not Modified and no body, instead of the
        whole file again. One object is kept, so memory stays that of one document.

        ``unchanging``: the caller knows nothing rewrites the object once it is there (the
        checked copy of an upload, written before its job is queued): the kept bytes are
        returned without asking S3 at all."""
        kept = self._kept if self._kept is not None and self._kept[0] == key else None
        if kept is not None and unchanging:
            return kept[2]
        try:
            response = (
                self._s3.get_object(Bucket=self.bucket, Key=key, IfNoneMatch=kept[1])
                if kept is not None
                else self._s3.get_object(Bucket=self.bucket, Key=key)
            )
        except ClientError as error:
            if kept is not None and error.response.get("Error", {}).get("Code") in (
                "304",
                "NotModified",
            ):
                return kept[2]
            raise
        data: bytes = response["Body"].read()
        self._kept = (key, str(response["ETag"]), data)
        return data

    def copy(self, source: str, target: str) -> None:
        """A server-side copy in the bucket (one call up to 5 GB: uploads are far smaller)."""
        self._s3.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
        )

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, keys: list[str]) -> None:
        if keys:
            self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys]}
            )

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many. A page of
        the listing holds at most 1,000 keys, as many as one batch delete takes."""
        if not prefix:
            raise ValueError("refusing to delete the whole bucket")
        deleted = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys = [item["Key"] for item in page.get("Contents", [])]
            self.delete(keys)
            deleted += len(keys)
        return deleted

    def ping(self) -> None:
        self._s3.head_bucket(Bucket=self.bucket)
