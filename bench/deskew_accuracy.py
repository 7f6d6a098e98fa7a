"""Deskew: our projection-profile skew estimate (documents/ocr/raster.py) against the ``deskew``
library (scikit-image's Hough transform), on generated scans turned by known angles.

The scans are the test pages' kind (tests/unit/documents/documents_inputs.py): a legal
paragraph set twice on a page, scanned at 300 dpi turned by ``skew`` degrees, clean and with
noise (Gaussian sigma 25, blur, dust specks). Reported per method: mean and worst error in
degrees against the true angle, the share within 0.2 degrees (what
test_skewed_noisy_scan_is_still_read asks of ours), and the time per page. Angles beyond our
5-degree range are not skew but a photo or a drawing, and are not asked.

Needs the ``libcompare`` extra (scripts/install-bench-deps.sh).
Usage: .venvs/dev/bin/python bench/deskew_accuracy.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "tests/unit/documents")]

import numpy as np  # noqa: E402
import pymupdf  # noqa: E402
from deskew import determine_skew  # noqa: E402
from documents_inputs import PARAGRAPHS, born_digital, scan  # noqa: E402
from pagewise.documents.ocr.raster import Raster  # noqa: E402

ANGLES = (-4.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 4.0)
LANGUAGES = ("en", "es", "de")
NOISES = (0.0, 25.0)


def ours(pix: pymupdf.Pixmap) -> float:
    # skew() returns the turn that levels the page: minus the scan's skew.
    return -Raster(pix.samples_mv.tobytes(), pix.width, pix.height).skew()


def library(min_deviation: float) -> Callable[[pymupdf.Pixmap], float]:
    """``deskew.determine_skew``; ``min_deviation`` is its angle step (1 degree by default)."""

    def run(pix: pymupdf.Pixmap) -> float:
        image = np.frombuffer(pix.samples_mv, dtype=np.uint8).reshape(pix.height, pix.width)
        found = determine_skew(image, max_angle=10, min_deviation=min_deviation)
        # determine_skew gives the counter-clockwise turn that levels the image; our scans are
        # turned clockwise by prerotate, so the same number is the scan's skew.
        return 0.0 if found is None else float(found)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.parse_args()
    methods: dict[str, Callable[[pymupdf.Pixmap], float]] = {
        "ours (projection profiles)": ours,
        "deskew 1.6.1 (Hough), default 1-degree step": library(1.0),
        "deskew 1.6.1 (Hough), 0.1-degree step": library(0.1),
    }
    errors: dict[str, list[float]] = {name: [] for name in methods}
    seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
    scans = 0
    for language in LANGUAGES:
        page = born_digital((PARAGRAPHS[language] + " ") * 2)[0]
        for noise in NOISES:
            for angle in ANGLES:
                pix = scan(page, dpi=300, skew=angle, noise=noise)
                scans += 1
                for name, method in methods.items():
                    started = time.perf_counter()
                    found = method(pix)
                    seconds[name] += time.perf_counter() - started
                    errors[name].append(abs(found - angle))
    print(f"{scans} scans: {', '.join(LANGUAGES)} x noise {NOISES} x skew {ANGLES} degrees")
    print()
    print("| method | mean error | worst error | within 0.2 deg | time per page |")
    print("|---|---|---|---|---|")
    for name in methods:
        found = errors[name]
        within = sum(error <= 0.2 for error in found)
        print(
            f"| {name} | {statistics.mean(found):.2f} deg | {max(found):.2f} deg "
            f"| {within}/{len(found)} | {1000 * seconds[name] / scans:.0f} ms |"
        )


if __name__ == "__main__":
    main()
