"""Page layouts in S3: one JSON object per (job, page), written by OcrPage, read by Render."""

from __future__ import annotations

from pagewise.data.storage import DocumentStore, work_prefix
from pagewise.documents.layout import PageLayout


def layout_key(job_id: str, page: int) -> str:
    # Under work/: intermediate artefacts of a job, expired with the job (RetentionDays).
    return f"{work_prefix(job_id)}layout/page-{page:05d}.json"


class LayoutStore:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def save(self, job_id: str, layout: PageLayout) -> str:
        key = layout_key(job_id, layout.page)
        self._store.write(key, layout.model_dump_json().encode(), "application/json")
        return key

    def load(self, job_id: str, page: int) -> PageLayout | None:
        if self._store.head(layout_key(job_id, page)) is None:
            return None
        return PageLayout.model_validate_json(self._store.read(layout_key(job_id, page)))
