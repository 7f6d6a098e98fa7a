"""Traineddata that hang, for the OCR fault tests, through the function's own OCR_DATA_DIR.

Each ``<pack>.traineddata`` of the folder is a named pipe nobody writes to: the engine's
``open`` of it blocks in the kernel (``wait_for_partner``) until the Lambda timeout ends the
environment, as a wedged native library would. ``release_after_first_hang`` turns the folder
into the real traineddata as soon as one OCR page is stuck there, so that the retry reads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pagewise.documents.language import TESSERACT_CODES
from pagewise.documents.ocr.engine import layer_data_dir

PACKS = [*TESSERACT_CODES.values(), "osd"]
# Where a process blocked opening a FIFO with no writer waits (Linux' fs/pipe.c).
_FIFO_WAITS = {"wait_for_partner", "fifo_open", "pipe_wait"}


def hanging_tessdata(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for pack in PACKS:
        os.mkfifo(folder / f"{pack}.traineddata")
    return folder


def _stuck_in(folder: Path) -> bool:
    """Some process with OCR_DATA_DIR=folder is blocked opening one of its pipes."""
    marker = f"OCR_DATA_DIR={folder}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "wchan").read_text().strip() not in _FIFO_WAITS:
                continue
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                return True
        except OSError:  # gone, or not ours
            continue
    return False


def _release(folder: Path) -> None:
    """Swap each pipe for the real traineddata; the stuck open stays on the old pipe."""
    real = layer_data_dir()
    for pack in PACKS:
        link = folder / f".{pack}.link"
        link.symlink_to(real / f"{pack}.traineddata")
        os.replace(link, folder / f"{pack}.traineddata")


@contextmanager
def release_after_first_hang(
    folder: Path, within_seconds: float = 300
) -> Iterator[threading.Event]:
    """Watch for the first OCR stuck on ``folder``'s pipes, then make the folder readable.
    Yields an event that is set once that happened."""
    released = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + within_seconds
        while not stop.is_set() and time.monotonic() < deadline:
            if _stuck_in(folder):
                _release(folder)
                released.set()
                return
            stop.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield released
    finally:
        stop.set()
        watcher.join()
