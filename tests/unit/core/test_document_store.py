"""DocumentStore.read_again: a warm OcrPage environment reads the upload once for all the
pages it serves (a conditional GET answers 304 without the body), never a stale copy."""

from __future__ import annotations

from typing import Any

import boto3
from pagewise.data.storage import DocumentStore


def test_read_again_transfers_the_body_once_and_never_serves_a_changed_object(
    aws: dict[str, str],
) -> None:
    client = boto3.client("s3")
    statuses: list[int] = []

    def answered(http_response: Any, **_: Any) -> None:
        statuses.append(http_response.status_code)

    client.meta.events.register("after-call.s3.GetObject", answered)
    store = DocumentStore(aws["bucket"], client=client)
    store.write("uploads/alice/job/doc.pdf", b"%PDF first", "application/pdf")

    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF first"
    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF first"
    assert statuses == [200, 304]  # the second page's read carried no body

    store.write("uploads/alice/job/doc.pdf", b"%PDF second", "application/pdf")
    assert store.read_again("uploads/alice/job/doc.pdf") == b"%PDF second"
    store.write("uploads/alice/other/doc.pdf", b"%PDF other", "application/pdf")
    assert store.read_again("uploads/alice/other/doc.pdf") == b"%PDF other"
    assert statuses == [200, 304, 200, 200]
