"""Per-block translations in S3: one JSON object per (job, page), written by TranslatePage and
read by Render for the overlay, beside the page's layout (data/layouts.py)."""

from __future__ import annotations

from pagewise.data.storage import DocumentStore
from pagewise.documents.block_translation import BlockTranslations


def blocks_key(job_id: str, page: int) -> str:
    return f"work/{job_id}/blocks/page-{page:05d}.json"


class BlockTranslationStore:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def save(self, job_id: str, translations: BlockTranslations) -> str:
        key = blocks_key(job_id, translations.page)
        self._store.write(key, translations.model_dump_json().encode(), "application/json")
        return key

    def load(self, job_id: str, page: int) -> BlockTranslations | None:
        if self._store.head(blocks_key(job_id, page)) is None:
            return None
        return BlockTranslations.model_validate_json(self._store.read(blocks_key(job_id, page)))
