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
from concurrent.futures import Future, ThreadPoolExecutor
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
    from pagewise.documents.outputs.overlay import OverlayPage
    from pagewise.documents.render import DocumentMeta, RenderPage


# S3 writes at once: the outputs and two small previews per page (the S3 client is thread-safe).
_WRITERS = 8
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
        self, job_id: str, page: PageResult, text_layer: Callable[[int], PageLayout]
    ) -> PageLayout | None:
        """The page's layout: rebuilt from the text layer (``text_layer`` reads page N's), or
        the one OCR stored; None if neither (a blank page, or one OCR'd before layouts were
        stored)."""
        if page.source == "text_layer":
            # OcrPage stores the layouts of OCR'd pages only: no lookup that can only miss.
            return text_layer(page.page)
        return self.layouts.load(job_id, page.page)

    def _offline_blocks(
        self, layout: PageLayout, language: str | None, glossary: Sequence[GlossaryEntry]
    ) -> BlockTranslations:
        """The blocks' offline translations (the Apertium gist, else the source text)."""
        from pagewise.documents.block_translation import translate_blocks_offline

        return translate_blocks_offline(
            layout,
            language,
            glossary=glossary,
            apertium_datadir=self.settings.apertium_datadir,
            apertium_warm_pipelines=self.settings.apertium_warm_pipelines,
        )

    def translate_blocks(
        self,
        job: Job,
        page: PageResult,
        language: str | None,
        translator: LlmTranslator | None,
    ) -> BlockTranslations | None:
        """The page's block translations (stored for Render), with the job's glossary; None for
        a page without layout. Raises the LLM's typed errors as the page translation does."""
        from pagewise.documents.layout_from_pdf import layout_from_pdf

        def text_layer(number: int) -> PageLayout:
            # The checked copy, the same for every page: a warm environment reads it once.
            return layout_from_pdf(
                self.store.read_again(job.document_key, unchanging=job.document_unchanging), number
            )

        layout = self.page_layout(job.job_id, page, text_layer)
        if layout is None:
            return None
        from pagewise.documents.block_translation import translate_blocks

        glossary = _glossary_entries(job)
        if translator is None:
            translations = self._offline_blocks(layout, language, glossary)
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
                offline = self._offline_blocks(layout, language, glossary)
                translations = offline.model_copy(
                    update={"note": f"{BLOCKS_FALLBACK_NOTE} {offline.note}"}
                )
        self.blocks.save(job.job_id, translations)
        return translations

    def _overlay_pages(
        self, job: Job, pages: Sequence[PageResult], text_layer: Callable[[int], PageLayout]
    ) -> tuple[list[OverlayPage], list[PageLayout]]:
        """Each page's layout and block translations, as the overlay sets them; the layouts."""
        from pagewise.documents.outputs.overlay import OverlayPage

        specs: list[OverlayPage] = []
        layouts: list[PageLayout] = []
        for page in pages:
            layout = self.page_layout(job.job_id, page, text_layer)
            if layout is None:
                specs.append(OverlayPage(page=page.page, layout=None))
                continue
            layouts.append(layout)
            translations = self.blocks.load(job.job_id, page.page)
            if translations is None:  # translated before per-block translation existed
                translations = self._offline_blocks(layout, page.language, _glossary_entries(job))
            specs.append(
                OverlayPage(
                    page=page.page,
                    layout=layout,
                    translations=translations.blocks,
                    label="" if translations.translated else translations.note,
                )
            )
        return specs, layouts

    def render(
        self,
        job: Job,
        pages: Sequence[PageResult],
        meta: DocumentMeta,
        render_pages: Sequence[RenderPage],
    ) -> RenderedOutputs:
        """Writes the overlay, searchable and Word outputs and the previews.

        The source is opened once: the text layers' layouts, the source's previews, then (in
        place) the overlay and its previews all come from that one document, so a scanned
        page's image is decoded once, not three times. Each output goes to S3 on a thread
        while the next is drawn; ``seconds`` are the drawing's, per variant."""
        from pagewise.documents.kinds import detect_kind
        from pagewise.documents.layout_from_pdf import layout_from_page
        from pagewise.documents.outputs.overlay import overlay_document, save_pdf, source_pdf
        from pagewise.documents.outputs.previews import document_previews, page_previews
        from pagewise.documents.outputs.searchable import render_searchable
        from pagewise.documents.outputs.word import render_docx

        source = self.store.read(job.document_key)
        seconds: dict[str, float] = {}
        keys: dict[str, str] = {}
        font_dir = self.settings.font_dir
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            writes: list[Future[None]] = []

            def write(key: str, data: bytes, content_type: str) -> None:
                writes.append(pool.submit(self.store.write, key, data, content_type))

            def put(variant: Variant, data: bytes) -> None:
                keys[variant] = output_key(job.tenant, job.job_id, job.file_name, variant)
                write(keys[variant], data, OUTPUT_KINDS[variant].content_type)

            with source_pdf(source) as doc:
                started = time.perf_counter()
                specs, layouts = self._overlay_pages(
                    job, pages, lambda number: layout_from_page(doc[number - 1])
                )
                layout_seconds = time.perf_counter() - started
                started = time.perf_counter()
                # An image upload's previews come from the image itself, as before (its PDF
                # conversion draws a few edge pixels differently).
                source_pngs = (
                    document_previews(doc, pages=len(pages))
                    if detect_kind(source) == "pdf"
                    else page_previews(source, pages=len(pages))
                )
                preview_seconds = time.perf_counter() - started
                started = time.perf_counter()
                overflowed, appendix_pages = overlay_document(doc, specs, font_dir=font_dir)
                overlay_seconds = time.perf_counter() - started
                started = time.perf_counter()
                overlay_pngs = document_previews(doc, pages=len(pages))
                preview_seconds += time.perf_counter() - started
                started = time.perf_counter()
                put("overlay", save_pdf(doc))
                overlay_seconds += time.perf_counter() - started
            seconds["overlay"] = round(overlay_seconds + layout_seconds, 3)

            started = time.perf_counter()
            put("searchable", render_searchable(source, layouts, font_dir=font_dir))
            seconds["searchable"] = round(time.perf_counter() - started, 3)

            started = time.perf_counter()
            put("docx", render_docx(meta, render_pages))
            seconds["docx"] = round(time.perf_counter() - started, 3)

            previews = []
            for page, source_png, overlay_png in zip(
                pages, source_pngs, overlay_pngs, strict=False
            ):
                entry: dict[str, str] = {}
                for kind, png in (("source", source_png), ("overlay", overlay_png)):
                    key = preview_key(job.tenant, job.job_id, page.page, kind)  # type: ignore[arg-type]
                    write(key, png, "image/png")
                    entry[f"{kind}_key"] = key
                previews.append(PagePreview(page=page.page, **entry))
            seconds["previews"] = round(preview_seconds, 3)
            for written in writes:
                written.result()  # a failed write fails Render
        return RenderedOutputs(
            keys=keys,
            previews=previews,
            overflowed=overflowed,
            appendix_pages=appendix_pages,
            seconds=seconds,
        )


def _glossary_entries(job: Job) -> list[GlossaryEntry]:
    """The entries of the glossary the job named (its snapshot); none without one."""
    return list(job.glossary.entries) if job.glossary else []
