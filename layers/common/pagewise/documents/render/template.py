"""The page template: A4, one frame, a running header naming the source page and a footer
counting "Page x of y". Any PDF output can build on it."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from pagewise.documents.render.fonts import FontSet
from pagewise.documents.render.styles import GREY, RULE
from pagewise.documents.render.text import shorten


class SectionStart(Flowable):
    """Invisible marker: the running header names ``label`` from the page it is drawn on."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass


class PageDocument(BaseDocTemplate):
    """A4 with one frame; draws the running header at the end of each page, when it is known
    whether a section started on the page ("Source page 3") or carried on ("(continued)")."""

    def __init__(self, buffer: io.BytesIO, fonts: FontSet, header_left: str, **kw: Any) -> None:
        super().__init__(buffer, pagesize=A4, **kw)
        self._fonts = fonts
        self._header_left = header_left
        self._section: str | None = None
        self._section_started_here = False
        frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [PageTemplate("page", [frame], onPage=self._on_page, onPageEnd=self._on_page_end)]
        )

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, SectionStart):
            self._section = flowable.label
            self._section_started_here = True

    def _on_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        self._section_started_here = False

    def _on_page_end(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        if canvas.getPageNumber() == 1:
            return  # the cover has its own title
        label = self._section or ""
        if label and not self._section_started_here:
            label += " (continued)"
        width, height = A4
        y = height - self.topMargin + 6 * mm
        canvas.saveState()
        canvas.setFillColor(GREY)
        canvas.setFont(self._fonts.regular, 8)
        canvas.drawString(self.leftMargin, y, shorten(self._header_left, 70))
        canvas.setFont(self._fonts.bold, 9)
        canvas.drawRightString(width - self.rightMargin, y, label)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(self.leftMargin, y - 2 * mm, width - self.rightMargin, y - 2 * mm)
        canvas.restoreState()


def numbered_canvas(font: str, footer_left: str, margin: float) -> type[Canvas]:
    """A canvas that keeps every page until the end, to write "Page x of y" in the footer."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.saveState()
                self.setFont(font, 8)
                self.setFillColor(GREY)
                self.drawString(margin, 10 * mm, footer_left)
                self.drawRightString(
                    width - margin, 10 * mm, f"Page {self.getPageNumber()} of {total}"
                )
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas
