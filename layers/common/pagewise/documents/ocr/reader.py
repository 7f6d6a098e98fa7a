"""OCR of one page: render, choose languages, read, check orientation, re-read.

Languages: the job's ``source_language`` when it has a pack; else the language of an old text
layer; else the language earlier pages of the same document were found in
(``document_language``); else a probe, a quick English OCR of the page's densest band (~0.5 s)
whose stop words name the language; then ``<language>+eng``. A page read with a language from
a hint whose text then turns out to be in another language we have a pack for is read again
with that pack. Orientation: OSD only when the page reads badly (see
``_ORIENTATION_CHECK_CONFIDENCE``), then the rotated page is OCR'd again and the better reading
kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import pymupdf

from pagewise.documents.errors import DocumentError
from pagewise.documents.language import (
    choose_ocr_languages,
    detect_language,
    tesseract_languages,
    to_iso1,
)
from pagewise.documents.ocr.engine import EngineTimeout, OcrEngine, Recognition
from pagewise.documents.ocr.raster import Raster, render, render_dpi

# OSD runs only when the first reading's mean word confidence is below this. An upright clean
# page reads at 90-97, a degraded upright scan at 70-90, an upside-down page at ~45 (and
# Tesseract's own layout analysis reads some sideways pages correctly by itself). Measured on
# a 300-dpi A4 page: OCR 2.3-3.7 s, OSD 0.8-1.1 s; OSD on every page would add ~35% for the
# rare rotated page, so it runs only on pages that read badly.
_ORIENTATION_CHECK_CONFIDENCE = 70.0
# OSD: stop after this many characters (Tesseract's default, 50, refuses sparse pages with
# "Too few characters" and takes ~40% longer on dense ones). Its answer is only a proposal:
# the rotated page is OCR'd again and kept only if it reads better, so a low OSD confidence
# is acceptable.
_OSD_MIN_CHARACTERS = 20
_MIN_OSD_CONFIDENCE = 1.0
# Optional passes (OSD, the rotated re-read) run only when the remaining time budget allows
# this many more passes as long as the first one took.
_OPTIONAL_PASS_HEADROOM = 2.5


@dataclass(frozen=True)
class Reading:
    """The kept pass: what it read, with which packs, on the raster turned how."""

    recognition: Recognition
    raster: Raster
    languages: str
    language: str | None
    rotation: int
    deskew: float

    @property
    def text(self) -> str:
        return self.recognition.text

    @property
    def confidence(self) -> float | None:
        return self.recognition.confidence


class PageReader:
    """OCR of one page: render, choose languages, read, check orientation.

    ``engine_factory`` is called when the first pass needs the engine: a flat page never
    does, so it never needs an engine at all.
    """

    def __init__(
        self,
        page: pymupdf.Page,
        page_number: int,
        *,
        engine_factory: Callable[[], OcrEngine],
        is_pdf: bool,
        dpi: int,
        timeout_seconds: float | None,
    ) -> None:
        self.page = page
        self.page_number = page_number
        self.engine_factory = engine_factory
        self.started = time.perf_counter()
        self.deadline = None if timeout_seconds is None else self.started + timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.dpi, self.zoom = render_dpi(page, is_pdf=is_pdf, dpi=dpi)
        self.pass_seconds = 0.0

    @cached_property
    def engine(self) -> OcrEngine:
        return self.engine_factory()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def read(
        self, *, candidates: str, language_hints: Sequence[str | None], detect_orientation: bool
    ) -> Reading | None:
        """The page's best reading; None when the page is flat (the engine never runs)."""
        raster = render(self.page, self.zoom, 0, self.page_number)
        if raster.is_flat():
            return None
        raster, deskew = self._straighten(raster, 0)
        packs = [pack for pack in candidates.split("+") if pack]
        rotation = 0
        orientation_checked = not detect_orientation

        if len(packs) <= 1:
            languages, language = candidates, to_iso1(candidates)
        else:
            languages, language = choose_ocr_languages(language_hints, candidates)
        hinted = language is not None and len(packs) > 1
        if language is None and len(packs) > 1:
            # Unknown language: read a band of the page with one pack, and let its stop
            # words name the language. A band that reads badly (English reads clean text in
            # any of our languages at 90+) is the first sign of a page on its side or upside
            # down: check the orientation now, before the full pass rather than after it.
            probe_pack = "eng" if "eng" in packs else packs[0]
            probe = self._ocr(raster.band(*raster.densest_band()), probe_pack)
            if not orientation_checked and _reads_badly(probe):
                orientation_checked = True
                rotation = self._orientation(raster)
                if rotation:
                    raster, deskew = self._straighten(
                        render(self.page, self.zoom, rotation, self.page_number), rotation
                    )
                    probe = self._ocr(raster.band(*raster.densest_band()), probe_pack)
            # Too little text to tell, or a language we have no pack for: read with all.
            languages, language = choose_ocr_languages((), candidates, text=probe.text)

        pass_started = time.perf_counter()
        recognition = self._ocr(raster, languages)
        self.pass_seconds = time.perf_counter() - pass_started
        if hinted:
            # A hint is a guess about this page (a document's pages may change language):
            # when the text says otherwise, read it again with its own pack.
            found = detect_language(recognition.text)
            better = tesseract_languages(found, packs) if found else None
            if better and better != languages and self._has_time_for_optional_passes():
                languages, language = better, found
                recognition = self._ocr(raster, languages)
        best = Reading(recognition, raster, languages, language, rotation, deskew)
        if (
            not orientation_checked
            and _reads_badly(recognition)
            and self._has_time_for_optional_passes()
        ):
            turn = self._orientation(raster)
            if turn and self._has_time_for_optional_passes():
                # OSD saw the straightened page: turn that, then level the turned page.
                turned, turned_deskew = self._straighten(
                    render(self.page, self.zoom, turn + deskew, self.page_number), turn + deskew
                )
                again = self._ocr(turned, languages)
                if (again.confidence or 0.0) > (best.confidence or 0.0):
                    best = Reading(
                        again, turned, languages, language, turn, round(deskew + turned_deskew, 2)
                    )
        return best

    def _straighten(self, raster: Raster, rotation: float) -> tuple[Raster, float]:
        """The raster levelled if it is skewed, and the extra degrees it was turned by."""
        skew = raster.skew()
        if not skew:
            return raster, 0.0
        return render(self.page, self.zoom, rotation + skew, self.page_number), skew

    def _has_time_for_optional_passes(self) -> bool:
        if self.deadline is None:
            return True
        remaining = self.deadline - time.perf_counter()
        return remaining > _OPTIONAL_PASS_HEADROOM * self.pass_seconds

    def _timed_out(self) -> DocumentError:
        return DocumentError("ocr_failed", f"Tesseract took longer than {self.timeout_seconds}s.")

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise self._timed_out()
        return remaining

    def _ocr(self, raster: Raster, languages: str) -> Recognition:
        try:
            return self.engine.recognise(
                raster, languages=languages, dpi=self.dpi, timeout=self._remaining()
            )
        except EngineTimeout as exc:
            raise self._timed_out() from exc

    def _orientation(self, raster: Raster) -> int:
        """Degrees (clockwise) to turn the page upright per OSD; 0 when OSD is unsure or
        fails (a sparse page, a missing osd pack): the page is then read as it is."""
        try:
            self._remaining()
            degrees, confidence = self.engine.orientation(
                raster, dpi=self.dpi, min_characters=_OSD_MIN_CHARACTERS
            )
        except DocumentError:
            return 0
        return osd_rotation(degrees, confidence)


def osd_rotation(degrees: int, confidence: float) -> int:
    """The clockwise turn (90/180/270) OSD proposes, or 0 when it proposes none or is below
    ``_MIN_OSD_CONFIDENCE``."""
    degrees %= 360
    if degrees not in (90, 180, 270) or confidence < _MIN_OSD_CONFIDENCE:
        return 0
    return degrees


def _reads_badly(recognition: Recognition) -> bool:
    """Some words were read, but with a confidence typical of a page on its side or upside
    down (nothing read at all is an empty page, and OSD would find nothing either)."""
    confidence = recognition.confidence
    return recognition.word_count > 0 and (
        confidence is None or confidence < _ORIENTATION_CHECK_CONFIDENCE
    )
