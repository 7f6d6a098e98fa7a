"""Glossaries (issue 17): the tenant's source term → English term lists, which a job names
with ``glossary``. Another tenant's glossary is a 404, as for jobs. See docs/legal-features.md.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pagewise.data.glossaries import StoredGlossary
from pagewise.documents.glossary import MAX_BODY_BYTES, GlossaryEntry
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from pagewise_api.dependencies import GlossaryServiceDep, Tenant
from pagewise_api.errors import ERROR_RESPONSES
from pagewise_api.routes import API

router = APIRouter(prefix=f"{API}/glossaries", tags=["glossaries"], responses=ERROR_RESPONSES)


class GlossaryView(BaseModel):
    name: str
    source_language: str | None
    target_language: str
    version: int
    created_at: datetime
    updated_at: datetime
    entries: list[GlossaryEntry]


class GlossaryListItem(BaseModel):
    name: str
    source_language: str | None
    target_language: str
    version: int
    entry_count: int
    created_at: datetime
    updated_at: datetime


class GlossaryList(BaseModel):
    glossaries: list[GlossaryListItem]


class DeletedGlossary(BaseModel):
    name: str
    deleted: bool


def _view(stored: StoredGlossary) -> GlossaryView:
    return GlossaryView.model_validate(stored.model_dump())


@router.put("/{name}", response_model=GlossaryView, status_code=200)
async def put_glossary(
    name: str,
    request: Request,
    response: Response,
    caller: Tenant,
    service: GlossaryServiceDep,
    source_language: Annotated[str | None, Query(max_length=20)] = None,
    target_language: Annotated[str | None, Query(max_length=20)] = None,
) -> GlossaryView:
    """Create or replace a glossary: JSON ``{source_language?, target_language?, entries:
    [{source, target, note?}]}``, or CSV (``Content-Type: text/csv``; a header row ``source,
    target,note``; the language pair from the query). 201 when created, 200 when replaced."""
    body = b""
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY_BYTES:
            break
    stored, created = await run_in_threadpool(
        service.put,
        caller,
        name,
        body,
        request.headers.get("content-type", "application/json"),
        source_language=source_language,
        target_language=target_language,
    )
    response.status_code = 201 if created else 200
    return _view(stored)


@router.get("/{name}", response_model=GlossaryView)
def get_glossary(name: str, caller: Tenant, service: GlossaryServiceDep) -> GlossaryView:
    stored = service.get(caller, name)
    if stored is None:  # another tenant's is not found either: never a 403
        raise HTTPException(status_code=404, detail="No such glossary.")
    return _view(stored)


@router.get("", response_model=GlossaryList)
def list_glossaries(caller: Tenant, service: GlossaryServiceDep) -> GlossaryList:
    return GlossaryList(
        glossaries=[GlossaryListItem.model_validate(item) for item in service.list(caller)]
    )


@router.delete("/{name}", response_model=DeletedGlossary)
def delete_glossary(name: str, caller: Tenant, service: GlossaryServiceDep) -> DeletedGlossary:
    """Jobs that used it keep the copy they were made with."""
    if not service.delete(caller, name):
        raise HTTPException(status_code=404, detail="No such glossary.")
    return DeletedGlossary(name=name, deleted=True)
