"""Fixtures shared by the core and the document unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pagewise.documents.ocr.engine import (
    OcrEngine,
    Recognition,
    TesserocrEngine,
    layer_data_dir,
    shared_engine,
)
from pagewise.documents.ocr.raster import Raster


class SpyEngine:
    """The real engine, logging each pass as the Tesseract CLI arguments it stands for
    (``-l spa+eng --psm 3 --dpi 300``; OSD is ``-l osd --psm 0 ...``)."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    def recognise(
        self, image: Raster, *, languages: str, dpi: int, timeout: float | None
    ) -> Recognition:
        self.calls.append(f"-l {languages} --psm 3 --dpi {dpi}")
        return self.inner.recognise(image, languages=languages, dpi=dpi, timeout=timeout)

    def orientation(self, image: Raster, *, dpi: int, min_characters: int) -> tuple[int, float]:
        self.calls.append(f"-l osd --psm 0 --dpi {dpi}")
        return self.inner.orientation(image, dpi=dpi, min_characters=min_characters)


@pytest.fixture(scope="session")
def layer_engine() -> TesserocrEngine:
    """The engine with the OCR layer's traineddata, which `make dev` puts beside the dev
    venv's tesserocr exactly where the layer has them (tessdata/ next to python/)."""
    packs = sorted(path.name for path in layer_data_dir().glob("*.traineddata"))
    if "osd.traineddata" not in packs or "spa.traineddata" not in packs:
        pytest.fail(f"no OCR layer traineddata in {layer_data_dir()}: run `make dev`")
    return shared_engine()


@pytest.fixture
def engine_calls(layer_engine: TesserocrEngine) -> tuple[SpyEngine, Callable[[], list[str]]]:
    """An engine that logs its passes and runs the real one: (engine, calls())."""
    spy = SpyEngine(layer_engine)
    return spy, lambda: list(spy.calls)
