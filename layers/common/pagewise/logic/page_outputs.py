"""The outputs that keep the source's pages, for TranslatePage and Render.

TranslatePage translates each page block by block (for the overlay, with the job's
glossary) beside its page translation; Render writes, beside the report PDF, the overlay PDF,
the searchable original, the Word document and a PNG preview per page of the source and of
the overlay, and returns what ``/result`` lists: each variant's key, the previews, the
overflowed blocks per page and the seconds each variant took.

A page's layout: the one OCR stored (data/layouts.py) for an OCR'd page; for a page with a text
layer, rebuilt from the PDF (documents/layout_from_pdf.py), the same each time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pagewise.data.blocks import BlockTranslationStore
from pagewise.data.layouts import LayoutStore
from pagewise.data.storage import DocumentStore
from pagewise.models import (
    Job,
    OutputFile,
    OverlayReport,
    PageOverflow,
    PagePreview,
    PageResult,
)
from pagewise.settings import PipelineSettings
from pagewise.variants import OUTPUT_KINDS, Variant, output_file_name, output_key, preview_key

if TYPE_CHECKING:
    from pagewise.documents.block_translation import BlockTranslations
    from pagewise.documents.glossary import GlossaryEntry
    from pagewise.documents.layout import PageLayout
    from pagewise.documents.llm import LlmTranslator
    from pagewise.documents.render import DocumentMeta, RenderPage


_PREVIEW_WRITERS = 8
BLOCKS_FALLBACK_NOTE = "The LLM's block-by-block translation of this page was unusable."
LOG = logging.getLogger(__name__)


@dataclass
class RenderedOutputs:
    keys: dict[str, str]  # variant -> S3 key (the report's is written by Render itself)
    previews: list[PagePreview]
    overflowed: dict[int, int]  # page -> blocks whose translation continues in a note
    appendix_pages: int
    seconds: dict[str, float] = field(default_factory=dict)  # variant -> render seconds

    def result_fields(self, file_name: str) -> dict[str, Any]:
        """What ``ai_extracted_content`` keeps of them (the API adds the URLs)."""
        return {
            "outputs": {
                variant: OutputFile(
                    key=key,
                    file_name=output_file_name(file_name, variant),  # type: ignore[arg-type]
                    content_type=OUTPUT_KINDS[variant].content_type,  # type: ignore[index]
                )
                for variant, key in self.keys.items()
            },
            "previews": self.previews,
            "overlay": OverlayReport(
                overflowed_blocks=[
                    PageOverflow(page=page, blocks=count)
                    for page, count in sorted(self.overflowed.items())
                ],
                overflowed_total=sum(self.overflowed.values()),
                appendix_pages=self.appendix_pages,
            ),
            "render_seconds": self.seconds,
        }


@dataclass
class PageOutputs:
    settings: PipelineSettings
    store: DocumentStore

    @cached_property
    def layouts(self) -> LayoutStore:
        return LayoutStore(self.store)

    @cached_property
    def blocks(self) -> BlockTranslationStore:
        return BlockTranslationStore(self.store)

    def page_layout(
        self, job_id: str, page: PageResult, source: Callable[[], bytes]
    ) -> PageLayout | None:
        """The page's layout: rebuilt from the text layer, or the one OCR stored; None if
        neither (a blank page, or one OCR'd before layouts were stored)."""
        if page.source != "text_layer":
            return self.layouts.load(job_id, page.page)
        # OcrPage stores the layouts of OCR'd pages only: no lookup that can only miss.
        from pagewise.documents.layout_from_pdf import layout_from_pdf

        return layout_from_pdf(source(), page.page)

    def translate_blocks(
        self,
        job: Job,
        page: PageResult,
        language: str | None,
        translator: LlmTranslator | None,
    ) -> BlockTranslations | None:
        """The page's block translations (stored for Render), with the job's glossary; None for
        a page without layout. Raises the LLM's typed errors as the page translation does."""
        # The checked copy, the same for every page: a warm environment reads it once.
        layout = self.page_layout(job.job_id, page, lambda: self.store.read_again(job.document_key))
        if layout is None:
            return None
        from pagewise.documents.block_translation import (
            translate_blocks,
            translate_blocks_offline,
        )

        glossary = _glossary_entries(job)
        if translator is None:
            translations = translate_blocks_offline(layout, language, glossary=glossary)
        else:
            from pagewise.documents.llm import LlmBadRequest

            try:
                translations = translate_blocks(
                    translator, layout, source_language=language, glossary=glossary
                )
            except LlmBadRequest as error:
                if error.error_code != "llm_invalid_output":
                    raise
                # The page translation (the report) succeeded; only the overlay's blocks did
                # not come back as sent, twice (or were cut off: a page too dense for one
                # answer). The overlay falls back to the offline text for this page, labelled,
                # rather than failing the job.
                LOG.warning("page %d: %s; overlay uses the offline text", page.page, error)
                offline = translate_blocks_offline(layout, language, glossary=glossary)
                translations = offline.model_copy(
                    update={"note": f"{BLOCKS_FALLBACK_NOTE} {offline.note}"}
                )
        self.blocks.save(job.job_id, translations)
        return translations

    def render(
        self,
        job: Job,
        pages: Sequence[PageResult],
        meta: DocumentMeta,
        render_pages: Sequence[RenderPage],
    ) -> RenderedOutputs:
        """Writes the overlay, searchable and Word outputs and the previews."""
        from pagewise.documents.outputs.overlay import OverlayPage, render_overlay
        from pagewise.documents.outputs.previews import page_previews
        from pagewise.documents.outputs.searchable import render_searchable
        from pagewise.documents.outputs.word import render_docx

        source = self.store.read(job.document_key)
        seconds: dict[str, float] = {}
        keys: dict[str, str] = {}

        def put(variant: Variant, data: bytes) -> None:
            key = output_key(job.tenant, job.job_id, job.file_name, variant)
            self.store.write(key, data, OUTPUT_KINDS[variant].content_type)
            keys[variant] = key

        started = time.perf_counter()
        specs: list[OverlayPage] = []
        layouts: list[PageLayout] = []
        for page in pages:
            layout = self.page_layout(job.job_id, page, lambda: source)
            if layout is None:
                specs.append(OverlayPage(page=page.page, layout=None))
                continue
            layouts.append(layout)
            translations = self.blocks.load(job.job_id, page.page)
            if translations is None:  # translated before per-block translation existed
                from pagewise.documents.block_translation import translate_blocks_offline

                translations = translate_blocks_offline(
                    layout, page.language, glossary=_glossary_entries(job)
                )
            specs.append(
                OverlayPage(
                    page=page.page,
                    layout=layout,
                    translations=translations.blocks,
                    label="" if translations.translated else translations.note,
                )
            )
        layout_seconds = time.perf_counter() - started
        started = time.perf_counter()
        overlay = render_overlay(source, specs, font_dir=self.settings.font_dir)
        put("overlay", overlay.pdf)
        seconds["overlay"] = round(time.perf_counter() - started + layout_seconds, 3)

        started = time.perf_counter()
        put("searchable", render_searchable(source, layouts, font_dir=self.settings.font_dir))
        seconds["searchable"] = round(time.perf_counter() - started, 3)

        started = time.perf_counter()
        put("docx", render_docx(meta, render_pages))
        seconds["docx"] = round(time.perf_counter() - started, 3)

        started = time.perf_counter()
        previews = []
        writes: list[tuple[str, bytes]] = []
        overlay_pngs = page_previews(overlay.pdf, pages=len(pages))
        for page, source_png, overlay_png in zip(
            pages, page_previews(source), overlay_pngs, strict=False
        ):
            entry: dict[str, str] = {}
            for kind, png in (("source", source_png), ("overlay", overlay_png)):
                key = preview_key(job.tenant, job.job_id, page.page, kind)  # type: ignore[arg-type]
                writes.append((key, png))
                entry[f"{kind}_key"] = key
            previews.append(PagePreview(page=page.page, **entry))
        # Two small objects per page: written side by side (the S3 client is thread-safe).
        with ThreadPoolExecutor(max_workers=_PREVIEW_WRITERS) as pool:
            list(pool.map(lambda item: self.store.write(item[0], item[1], "image/png"), writes))
        seconds["previews"] = round(time.perf_counter() - started, 3)
        return RenderedOutputs(
            keys=keys,
            previews=previews,
            overflowed=overlay.overflowed,
            appendix_pages=overlay.appendix_pages,
            seconds=seconds,
        )


def _glossary_entries(job: Job) -> list[GlossaryEntry]:
    """The entries of the glossary the job named (its snapshot); none without one."""
    return list(job.glossary.entries) if job.glossary else []
