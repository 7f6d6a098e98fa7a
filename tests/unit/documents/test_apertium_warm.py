"""The warm Apertium pipeline (pagewise.documents.apertium_warm): the same gist as one
``apertium -u`` run, from one process kept between calls, killed whole when it hangs or
crashes; stand-in ``apertium`` scripts keep the one-shot run."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pagewise.documents.apertium_warm import (
    PIPELINES,
    WarmFailure,
    WarmInstall,
    WarmPipeline,
    WarmPipelines,
    warm_install,
)
from pagewise.documents.block_translation import translate_blocks_offline
from pagewise.documents.translate import apertium_gist, apertium_once, translate_offline

from tests.support.tools import installed
from tests.unit.builders import a_layout

PAIR = "spa-eng"
REPO = Path(__file__).resolve().parents[3]
PAGE = "".join(
    f"CLÁUSULA {n}. El arrendatario se obliga a pagar la renta pactada dentro de los cinco "
    "primeros días de cada mes, mediante transferencia a la cuenta designada por el "
    "arrendador. El retraso en el pago devengará el interés legal del dinero incrementado en "
    "dos puntos, sin perjuicio de la facultad del arrendador de resolver el contrato. "
    for n in range(8)
)
TEXTS = [
    "El arrendatario pagará la renta mensual al arrendador.",
    "El perro come.\n\nLa casa es grande.\n",
    "Cláusula 3ª: [nota] a/b <x> $5 ^ @ # * \\ fin {llaves} ]x[ ^a<n>$",
    "Hola  mundo\n\n\n  sangría\tdoble\ttabulador",
    "Línea uno\r\nLínea dos\rtres\n",
    "página\f siguiente \x01 control, emoji 😀, ¿qué? ¡sí! «comillas» — guion…",
    "no\u00a0separable\u200bcero, 1.234,56 € el 12/03/2024, art. 5.º",
    "trailing spaces   \n   ",
    "El",
    "Qqglosaabq paga a Qqglosaacq.",
    "surrogate \udcff suelto",
    PAGE,
    "El contrato vence.\n\n" * 60,  # about 1 KB of lines
    PAGE * 5,  # about 16 KB: the answer starts before the request is all sent
]


def _real_install() -> WarmInstall | None:
    executable = shutil.which("apertium")
    return warm_install(executable, PAIR) if executable else None


needs_apertium = installed(
    lambda: _real_install() is not None,
    "Apertium (apertium, apertium-wblank-mode, apertium-destxt, apertium-retxt) with spa-eng",
)


def _one_shot(text: str) -> str | None:
    return apertium_once(text, PAIR, executable=shutil.which("apertium") or "apertium")


def _warm() -> WarmPipeline:
    """The process's pipeline for spa-eng, as apertium_gist uses it."""
    install = _real_install()
    assert install is not None
    return PIPELINES.get(install, PAIR)


def _alive_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that are not dead (zombies are dead)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _parent, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


def _gone(group: int) -> bool:
    """Whether every process of ``group`` has ended (SIGKILL takes effect within moments)."""
    deadline = time.monotonic() + 5
    while _alive_in_group(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(autouse=True)
def no_warm_pipelines() -> Iterator[None]:
    """Each test starts and ends without warm pipelines in this process."""
    PIPELINES.close_all()
    yield
    PIPELINES.close_all()


@needs_apertium
@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_the_warm_gist_is_the_one_shot_output(text: str) -> None:
    expected = _one_shot(text)
    assert expected is not None

    assert apertium_gist(text, PAIR) == expected
    # It came from the warm pipeline, which answers the same again.
    pipeline = _warm()
    assert pipeline.pid is not None
    assert pipeline.translate(text, 30).rstrip("\n") == expected


@needs_apertium
def test_consecutive_calls_are_served_by_the_same_pipeline() -> None:
    first = translate_offline(PAGE, "es")
    pid = _warm().pid
    assert pid is not None and first.provider == "apertium"

    again = translate_offline("El perro come.", "es")
    blocks = translate_blocks_offline(a_layout("El arrendatario paga.", "La casa es grande."), "es")

    assert again.plain_english == _one_shot("El perro come.")
    assert blocks.provider == "apertium" and blocks.blocks["b2"] == "The house is big."
    assert _warm().pid == pid
    assert len(PIPELINES.pipelines()) == 1


@needs_apertium
def test_a_hung_pipeline_is_killed_whole_and_the_next_call_starts_a_new_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert apertium_gist("El perro come.", PAIR) is not None
    hung = _warm().pid
    assert hung is not None
    os.killpg(hung, signal.SIGSTOP)  # every stage stops: the next request gets no answer
    try:
        with caplog.at_level(logging.WARNING):
            result = translate_offline(SPANISH, "es", apertium_timeout_seconds=0.5)

        assert (result.provider, result.plain_english) == ("offline", SPANISH)
        assert any("timed out" in record.getMessage() for record in caplog.records)
        assert _warm().pid is None
        assert _gone(hung), f"left running: {_alive_in_group(hung)}"
    finally:
        if _alive_in_group(hung):
            os.killpg(hung, signal.SIGKILL)

    assert apertium_gist(SPANISH, PAIR) == _one_shot(SPANISH)
    fresh = _warm().pid
    assert fresh is not None and fresh != hung


@needs_apertium
def test_a_crashed_pipeline_is_replaced_and_the_call_still_gets_its_gist(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert apertium_gist("El perro come.", PAIR) is not None
    crashed = _warm().pid
    assert crashed is not None
    # One stage dies (the newest: the last of the pipe): the request finds no answer.
    stage = max(pid for pid in _alive_in_group(crashed) if pid != crashed)
    os.kill(stage, signal.SIGKILL)

    with caplog.at_level(logging.WARNING):
        gist = apertium_gist(SPANISH, PAIR)

    assert gist == _one_shot(SPANISH)  # this call: one apertium run
    assert any("warm apertium" in record.getMessage() for record in caplog.records)
    assert _gone(crashed)
    assert apertium_gist(SPANISH, PAIR) == gist
    assert _warm().pid not in (None, crashed)


@needs_apertium
def test_two_threads_at_once_each_get_their_own_gist() -> None:
    texts = [PAGE, "El perro come.\n\nLa casa es grande.", "Hola mundo.", TEXTS[2]]
    expected = {text: _one_shot(text) for text in texts}
    start = threading.Barrier(len(texts))
    answers: dict[str, list[str | None]] = {text: [] for text in texts}

    def translate(text: str) -> None:
        start.wait()
        for _ in range(5):
            answers[text].append(apertium_gist(text, PAIR))

    threads = [threading.Thread(target=translate, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {text: [expected[text]] * 5 for text in texts}
    assert len(PIPELINES.pipelines()) == 1


SPANISH = "El arrendatario pagará la renta cada mes según el contrato."


def _fake_apertium(directory: Path, body: str) -> Path:
    script = directory / "apertium"
    script.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then echo "  spa-eng"; exit 0; fi\n{body}\n')
    script.chmod(0o755)
    return script


def test_a_stand_in_apertium_takes_the_one_shot_run(tmp_path: Path) -> None:
    script = _fake_apertium(tmp_path, "tr a-z A-Z")

    assert warm_install(str(script), PAIR) is None
    result = translate_offline("hola", "es", apertium_cmd=str(script))

    assert (result.provider, result.plain_english) == ("apertium", "HOLA")
    assert PIPELINES.pipelines() == []


@needs_apertium
def test_a_stand_in_beside_the_helpers_still_needs_the_mode_file(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for helper in ("apertium-wblank-mode", "apertium-destxt", "apertium-retxt"):
        (bindir / helper).symlink_to(shutil.which(helper) or helper)
    script = _fake_apertium(bindir, "tr a-z A-Z")

    assert warm_install(str(script), PAIR) is None  # no <prefix>/share/apertium/modes
    modes = tmp_path / "share" / "apertium" / "modes"
    modes.mkdir(parents=True)
    shutil.copy(f"/usr/share/apertium/modes/{PAIR}.mode", modes)
    install = warm_install(str(script), PAIR)
    assert install is not None
    assert (install.bindir, install.mode_file) == (bindir, modes / f"{PAIR}.mode")


@needs_apertium
def test_no_warm_pipelines_means_one_apertium_run_per_call() -> None:
    result = translate_offline(SPANISH, "es", apertium_warm_pipelines=0)

    assert (result.provider, result.plain_english) == ("apertium", _one_shot(SPANISH))
    assert PIPELINES.pipelines() == []


def _datadir_with_the_pair(directory: Path) -> Path:
    """A data directory like the installation's, holding only the pair's mode file (whose
    pipeline names the dictionaries by absolute path)."""
    (directory / "modes").mkdir(parents=True)
    shutil.copy(f"/usr/share/apertium/modes/{PAIR}.mode", directory / "modes")
    return directory


@needs_apertium
def test_the_data_directory_setting_is_the_one_the_warm_pipeline_uses(tmp_path: Path) -> None:
    datadir = _datadir_with_the_pair(tmp_path / "data")

    result = translate_offline(SPANISH, "es", apertium_datadir=str(datadir))

    assert result.provider == "apertium" and result.plain_english == _one_shot(SPANISH)
    [pipeline] = PIPELINES.pipelines()
    assert pipeline.install.mode_file == datadir / "modes" / f"{PAIR}.mode"
    # A data directory without the pair: no gist, warm or not.
    empty = tmp_path / "empty"
    (empty / "modes").mkdir(parents=True)
    assert translate_offline(SPANISH, "es", apertium_datadir=str(empty)).provider == "offline"


@needs_apertium
def test_the_least_recently_used_pipeline_is_closed_beyond_the_limit(tmp_path: Path) -> None:
    executable = shutil.which("apertium") or "apertium"
    installs = [
        warm_install(executable, PAIR, str(_datadir_with_the_pair(tmp_path / f"d{n}")))
        for n in range(3)
    ]
    pool = WarmPipelines(size=2)
    pids = []
    try:
        for install in installs:
            assert install is not None
            pipeline = pool.get(install, PAIR)
            pipeline.translate("Hola.", 30)
            pids.append(pipeline.pid)

        oldest, *kept = [install for install in installs if install is not None]
        assert [p.install for p in pool.pipelines()] == kept
        assert pids[0] is not None and _gone(pids[0])
        assert all(pid is not None and _alive_in_group(pid) for pid in pids[1:])
        with pytest.raises(WarmFailure):
            WarmPipeline.translate(_closed(pool, oldest), "Hola.", 30)
    finally:
        pool.close_all()
    assert all(pid is not None and _gone(pid) for pid in pids)


def _closed(pool: WarmPipelines, install: WarmInstall) -> WarmPipeline:
    """A pipeline closed as the pool closes the ones it evicts."""
    pipeline = WarmPipeline(install, PAIR)
    pipeline.close()
    return pipeline


AT_EXIT = """
import atexit, sys, time
from pathlib import Path

def alive(group):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            found.append(entry.name)
    return found

group = []

def after_the_pipelines_close():  # atexit runs the newest first: this one runs last
    deadline = time.monotonic() + 5
    while alive(group[0]) and time.monotonic() < deadline:
        time.sleep(0.02)
    print("left running:", alive(group[0]), flush=True)

atexit.register(after_the_pipelines_close)
from pagewise.documents.apertium_warm import PIPELINES
from pagewise.documents.translate import apertium_gist

print(apertium_gist("El perro come.", "spa-eng"), flush=True)
group.append(PIPELINES.pipelines()[0].pid)
"""


@needs_apertium
def test_the_process_closes_its_pipelines_at_exit() -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO / "layers" / "common")}
    done = subprocess.run(
        [sys.executable, "-c", AT_EXIT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )

    assert done.stdout.splitlines() == ["The dog eats.", "left running: []"], done.stderr


KILLED = """
import time
from pagewise.documents.apertium_warm import PIPELINES
from pagewise.documents.translate import apertium_gist

apertium_gist("El perro come.", "spa-eng")
print(PIPELINES.pipelines()[0].pid, flush=True)
time.sleep(60)
"""


@needs_apertium
def test_a_process_killed_outright_leaves_no_pipeline_behind() -> None:
    # As the local stack's executor ends an environment: SIGKILL, no atexit. The pipeline's
    # input closes with its owner, and every stage ends after it.
    environment = {**os.environ, "PYTHONPATH": str(REPO / "layers" / "common")}
    with subprocess.Popen(
        [sys.executable, "-c", KILLED], stdout=subprocess.PIPE, text=True, env=environment
    ) as owner:
        assert owner.stdout is not None
        group = int(owner.stdout.readline())
        assert _alive_in_group(group)
        owner.kill()

    assert _gone(group), f"left running: {_alive_in_group(group)}"


@needs_apertium
def test_an_idle_pipeline_is_stopped_and_starts_again_on_the_next_request() -> None:
    install = _real_install()
    assert install is not None
    pool = WarmPipelines(idle_seconds=0.4)
    try:
        pipeline = pool.get(install, PAIR)
        assert pipeline.translate("El perro come.", 30).rstrip("\n") == "The dog eats."
        first = pipeline.pid
        assert first is not None

        # Nothing asks for 0.4 s: the pool's watcher stops every stage (177 MB RSS idle).
        assert _gone(first)
        assert pipeline.pid is None

        assert pipeline.translate("La casa es grande.", 30).rstrip("\n") == "The house is big."
        assert pipeline.pid not in (None, first)
    finally:
        pool.close_all()
