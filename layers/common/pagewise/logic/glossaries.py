"""Glossaries as the API sees them: put (create or replace), get, list and delete, per tenant.

Every call names the tenant: another tenant's glossary is simply not found."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pagewise.data.glossaries import GlossaryRepository, StoredGlossary
from pagewise.documents.glossary import (
    NAME_PATTERN,
    GlossaryInvalid,
    GlossaryTooLarge,
    parse_glossary,
)
from pagewise.logic.jobs import InvalidRequest

__all__ = ["GlossaryService", "GlossaryTooLarge", "InvalidRequest"]

_NAME = re.compile(NAME_PATTERN)


@dataclass
class GlossaryService:
    glossaries: GlossaryRepository

    def put(
        self,
        tenant: str,
        name: str,
        body: bytes,
        content_type: str,
        *,
        source_language: str | None = None,
        target_language: str | None = None,
    ) -> tuple[StoredGlossary, bool]:
        """Create or replace; (the stored glossary, whether it was created). Raises
        :class:`InvalidRequest` (422) or :class:`GlossaryTooLarge` (413)."""
        if not _NAME.match(name):
            raise InvalidRequest(
                "a glossary name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        try:
            glossary = parse_glossary(
                name,
                body,
                content_type,
                source_language=source_language,
                target_language=target_language,
            )
        except GlossaryInvalid as error:
            raise InvalidRequest(f"the glossary cannot be read: {error}") from error
        return self.glossaries.put(tenant, glossary)

    def get(self, tenant: str, name: str) -> StoredGlossary | None:
        return self.glossaries.get(tenant, name)

    def list(self, tenant: str) -> list[dict[str, Any]]:
        return self.glossaries.list(tenant)

    def delete(self, tenant: str, name: str) -> bool:
        """Jobs that used it keep their snapshot."""
        return self.glossaries.delete(tenant, name)
