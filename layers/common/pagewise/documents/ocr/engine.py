"""The OCR engine: Tesseract in this process, through tesserocr, kept warm across invocations.

``tesserocr``'s manylinux_2_28 wheel bundles libtesseract 5.5.4 and leptonica, so the OCR
layer runs on AWS's python3.13 runtime (glibc 2.34) where Debian's ``tesseract`` binary
(glibc 2.36) does not start. No subprocess: a page is handed over as raw greyscale bytes.

The traineddata come from the OCR layer (``layers/ocr``): ``<layer>/tessdata``, found through
the layer's own path (``/opt/tessdata`` in AWS, the unzipped layer on the local stack), next
to the layer's ``python/`` folder that holds tesserocr. Never the host's tessdata: a function
without the layer fails with ``Runtime.ImportModuleError`` (no tesserocr) or ``ocr_engine_missing``
(no traineddata), as it would in AWS.

One initialised ``PyTessBaseAPI`` per language set (``spa+eng``, ``eng``, ``osd``, ...) stays
in a module-level cache for the life of the execution environment: initialising one costs
0.1-0.3 s, a page's OCR 1-3 s.
"""

from __future__ import annotations

import os

# One thread per page (Tesseract's OpenMP threading is 3-4x slower than pages in parallel on
# small machines). OpenMP reads this once, when libtesseract loads: set it before the import.
os.environ["OMP_THREAD_LIMIT"] = "1"

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tesserocr

from pagewise.documents.errors import DocumentError
from pagewise.documents.ocr.raster import Raster

ENGINE_NAME = f"tesserocr {tesserocr.__version__} / tesseract {tesserocr.PyTessBaseAPI.Version()}"
# Language sets kept initialised at once (the probe's eng, the page's <pack>+eng, osd, and
# one more); the least recently used one is ended beyond that. Each holds 20-60 MB.
_MAX_WARM_LANGUAGE_SETS = 4
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the raster


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100; negative when Tesseract gives none
    box: Box


@dataclass(frozen=True)
class Line:
    box: Box
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Paragraph:
    box: Box
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Recognition:
    """What one pass read: paragraphs of lines of words, in Tesseract's reading order."""

    paragraphs: tuple[Paragraph, ...] = ()

    def words(self) -> Iterator[Word]:
        for paragraph in self.paragraphs:
            for line in paragraph.lines:
                yield from line.words

    @property
    def text(self) -> str:
        """Words joined by spaces, lines by a newline, paragraphs by a blank line, so the
        translator sees the document's structure."""
        return "\n\n".join(
            "\n".join(" ".join(word.text for word in line.words) for line in paragraph.lines)
            for paragraph in self.paragraphs
        )

    @property
    def confidence(self) -> float | None:
        """Mean word confidence (0-100), None when no word has one."""
        values = [word.confidence for word in self.words() if word.confidence >= 0]
        return round(sum(values) / len(values), 2) if values else None

    @property
    def word_count(self) -> int:
        return sum(1 for _ in self.words())


class EngineTimeout(Exception):
    """A pass did not finish within the time it was given."""


class OcrEngine(Protocol):
    """What the page reader needs of an OCR engine (tests wrap the real one to watch it)."""

    @property
    def name(self) -> str: ...

    def recognise(
        self, image: Raster, *, languages: str, dpi: int, timeout: float | None
    ) -> Recognition: ...

    def orientation(self, image: Raster, *, dpi: int, min_characters: int) -> tuple[int, float]:
        """(degrees to turn the image clockwise to make it upright, confidence); raises
        ``DocumentError`` when orientation detection is unavailable or fails."""
        ...


class TesserocrEngine:
    """Tesseract through tesserocr, reading traineddata from ``data_dir`` only."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._apis: OrderedDict[str, tesserocr.PyTessBaseAPI] = OrderedDict()

    @property
    def name(self) -> str:
        return ENGINE_NAME

    def recognise(
        self, image: Raster, *, languages: str, dpi: int, timeout: float | None
    ) -> Recognition:
        api = self._api(languages, tesserocr.PSM.AUTO)
        # Raw bytes, one per pixel: no PNM or PNG encoding at all. SetImageBytes does not copy
        # them; ``image`` stays referenced until the pass is over.
        api.SetImageBytes(image.samples, image.width, image.height, 1, image.width)
        api.SetSourceResolution(dpi)
        try:
            milliseconds = 0 if timeout is None else max(1, int(timeout * 1000))
            if not api.Recognize(timeout=milliseconds):
                if timeout is not None:
                    raise EngineTimeout(f"Tesseract took longer than {timeout:.1f}s")
                raise DocumentError("ocr_failed", "Tesseract could not read the page.")
            return _recognition(api.GetIterator())
        finally:
            api.Clear()  # the page's results and image; the languages stay loaded

    def orientation(self, image: Raster, *, dpi: int, min_characters: int) -> tuple[int, float]:
        api = self._api("osd", tesserocr.PSM.OSD_ONLY)
        api.SetVariable("min_characters_to_try", str(min_characters))
        api.SetImageBytes(image.samples, image.width, image.height, 1, image.width)
        api.SetSourceResolution(dpi)
        try:
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not found:
            raise DocumentError("ocr_failed", "Tesseract found no orientation (too little text).")
        # orient_deg is how far the image is turned clockwise; turning it back upright takes
        # the rest of the circle (the CLI's "Rotate:" line).
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])

    def _api(self, languages: str, psm: int) -> tesserocr.PyTessBaseAPI:
        api = self._apis.get(languages)
        if api is not None:
            self._apis.move_to_end(languages)
            return api
        packs = [pack for pack in languages.split("+") if pack]
        missing = [pack for pack in packs if not (self.data_dir / f"{pack}.traineddata").exists()]
        if missing:
            raise DocumentError(
                "ocr_engine_missing",
                f"The OCR engine has no traineddata for {'+'.join(missing)} in {self.data_dir}.",
            )
        try:
            # The path must end in a slash (tesserocr); it alone is searched, never
            # TESSDATA_PREFIX or the compiled-in default.
            api = tesserocr.PyTessBaseAPI(path=f"{self.data_dir}/", lang=languages, psm=psm)
        except RuntimeError as exc:
            raise DocumentError(
                "ocr_engine_missing",
                f"Tesseract could not load {languages} from {self.data_dir}: {exc}",
            ) from exc
        self._apis[languages] = api
        while len(self._apis) > _MAX_WARM_LANGUAGE_SETS:
            _, oldest = self._apis.popitem(last=False)
            oldest.End()
        return api


def _recognition(iterator: tesserocr.PyResultIterator | None) -> Recognition:
    """Paragraphs of lines of words from Tesseract's result iterator (empty words dropped)."""
    if iterator is None:
        return Recognition()
    paragraphs: list[Paragraph] = []
    lines: list[Line] = []
    words: list[Word] = []
    paragraph_box: Box | None = None
    line_box: Box | None = None

    def close_line() -> None:
        if words and line_box is not None:
            lines.append(Line(line_box, tuple(words)))
        words.clear()

    def close_paragraph() -> None:
        close_line()
        if lines and paragraph_box is not None:
            paragraphs.append(Paragraph(paragraph_box, tuple(lines)))
        lines.clear()

    level = tesserocr.RIL.WORD
    for word in tesserocr.iterate_level(iterator, level):
        if word.Empty(level):
            continue
        if word.IsAtBeginningOf(tesserocr.RIL.PARA):
            close_paragraph()
            paragraph_box = word.BoundingBox(tesserocr.RIL.PARA)
        if word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            close_line()
            line_box = word.BoundingBox(tesserocr.RIL.TEXTLINE)
        text = (word.GetUTF8Text(level) or "").strip()
        box = word.BoundingBox(level)
        if text and box is not None:
            words.append(Word(text, float(word.Confidence(level)), box))
    close_paragraph()
    return Recognition(tuple(paragraphs))


def layer_data_dir() -> Path:
    """The OCR layer's tessdata: ``tessdata/`` beside the layer's ``python/`` folder that holds
    tesserocr (``/opt/tessdata`` in AWS)."""
    return Path(tesserocr.__file__).resolve().parent.parent.parent / "tessdata"


_ENGINES: dict[Path, TesserocrEngine] = {}


def shared_engine(data_dir: str | Path | None = None) -> TesserocrEngine:
    """The warm engine for ``data_dir`` (default: the OCR layer's), one per process."""
    path = Path(data_dir) if data_dir else layer_data_dir()
    engine = _ENGINES.get(path)
    if engine is None:
        if not path.is_dir():
            raise DocumentError(
                "ocr_engine_missing",
                f"The OCR engine's traineddata directory {path} does not exist: is the OCR "
                "layer attached to this function?",
            )
        engine = _ENGINES[path] = TesserocrEngine(path)
    return engine
