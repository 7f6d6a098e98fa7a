"""A warm Apertium pipeline per (installation, pair) and process, as Apertium-APy keeps them.

``apertium -u <pair>`` is a bash script that starts a pipeline of about ten processes
(``lt-proc``, ``apertium-tagger``, the transfer stages...), each loading its dictionaries: about
0.1 s of wall time and 0.2 CPU-seconds per call, however short the text. Here the mode's
pipeline (``apertium-wblank-mode -z <datadir>/modes/<pair>.mode``: null-flush mode, with the
arguments ``apertium -u`` gives it) is started once and fed one request at a time: the text
through ``apertium-destxt`` (a tiny one-shot process), then into the pipeline followed by
``\\0``; the answer is read up to its ``\\0`` and goes through ``apertium-retxt``. The output is
the one-shot run's, byte for byte.

The stages are started here, each piped into the next, rather than by a shell: a shell would
hold the pipeline's input and output open, so a stage that dies would leave the request
waiting for its timeout; here it ends the answer at once. They run in one process group of
their own, as the ``apertium`` script runs them: its directory first on PATH (a stage named
without a path is looked up there first) and a UTF-8 ``LC_CTYPE``.

Used only where a real installation is there (:func:`warm_install`): the mode file under the
installation's data directory and the three helpers beside the ``apertium`` command. A request
that times out, or a pipeline that crashes or ends, kills the pipeline's whole process group;
the next request starts a new one. At most :data:`MAX_WARM_PIPELINES` pipelines are kept per
process (the least recently used is closed), and all are closed when the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import selectors
import shlex
import signal
import subprocess
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LOG = logging.getLogger(__name__)

# Pipelines kept per process (the APERTIUM_WARM_PIPELINES setting's default): one spa-eng
# pipeline is 13 processes holding about 90 MB of their own (177 MB RSS, 100 MB PSS).
MAX_WARM_PIPELINES = 2
# A pipeline idle this long is stopped (it starts again, ~0.15 s, on the next request): a
# spa-eng pipeline holds 177 MB RSS, and an execution environment lives on for minutes after
# its last page. Measured: the scale benchmark's stack idled 845 MB higher with the pipelines
# of an earlier benchmark's environments kept, and its peak RSS broke issue 16's 6 GB goal.
IDLE_SECONDS = 20.0
_HELPERS = ("apertium-wblank-mode", "apertium-destxt", "apertium-retxt")
_READ_SIZE = 65536
# $1 and $2 of a mode's pipeline as ``apertium -u`` passes them for txt: "-n" (no marks on
# unknown words) and no tagger option.
_MODE_ARGUMENTS = {"$1": ("-n",), "$2": ()}
_UTF8 = re.compile(r"utf[.-]*8", re.IGNORECASE)


class WarmTimeout(Exception):
    """The request took longer than its timeout (the pipeline, if it hung, is killed)."""


class WarmFailure(Exception):
    """The pipeline could not answer: it did not start, crashed, ended, or was closed."""


@dataclass(frozen=True)
class WarmInstall:
    """Where a warm pipeline's parts are: the helpers' directory, the pair's mode file, its
    stages (each a command line) and the UTF-8 locale the ``apertium`` script would pick."""

    bindir: Path
    mode_file: Path
    stages: tuple[tuple[str, ...], ...]
    utf8_locale: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` as the ``apertium`` script runs it (``env`` execs it: no extra process)."""
        program = argv[0]
        if "/" not in program and os.access(self.bindir / program, os.X_OK):
            program = str(self.bindir / program)
        return ["env", f"LC_CTYPE={self.utf8_locale}", program, *argv[1:]]


def warm_install(executable: str, pair: str, datadir: str | None = None) -> WarmInstall | None:
    """The real installation behind ``executable`` (the ``apertium`` command's path), or None.

    ``datadir`` is the data directory the ``apertium`` script would use (its
    ``APERTIUM_DATADIR``); unset, the installation's own: ``<prefix>/share/apertium`` for
    ``<prefix>/bin/apertium``. None unless ``<datadir>/modes/<pair>.mode`` exists,
    ``apertium-wblank-mode``, ``apertium-destxt`` and ``apertium-retxt`` are beside the command
    and the mode is a plain pipeline (a stand-in ``apertium`` script, as in the tests, is run
    as it is).
    """
    bindir = Path(executable).resolve().parent
    data = Path(datadir) if datadir else bindir.parent / "share" / "apertium"
    mode_file = data / "modes" / f"{pair}.mode"
    if "/" in pair or not mode_file.is_file():
        return None
    if not all(os.access(bindir / helper, os.X_OK) for helper in _HELPERS):
        return None
    stages = _mode_stages(str(bindir / "apertium-wblank-mode"), str(mode_file))
    locale = _utf8_locale()
    if stages is None or locale is None:
        return None
    return WarmInstall(bindir=bindir, mode_file=mode_file, stages=stages, utf8_locale=locale)


@lru_cache(maxsize=16)
def _mode_stages(wblank_mode: str, mode_file: str) -> tuple[tuple[str, ...], ...] | None:
    """The commands of the mode's null-flush pipeline (``apertium-wblank-mode -z``), with $1
    and $2 as ``apertium -u`` sets them; None for anything but a plain pipeline of commands."""
    try:
        script = subprocess.run(
            [wblank_mode, "-z", mode_file], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        LOG.warning("apertium-wblank-mode %s failed (%s): no warm pipeline", mode_file, error)
        return None
    lexer = shlex.shlex(script, posix=True, punctuation_chars="|&;<>()")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        return None
    stages: list[tuple[str, ...]] = [()]
    for token in tokens:
        if token == "|":
            stages.append(())
        elif token in _MODE_ARGUMENTS:
            stages[-1] += _MODE_ARGUMENTS[token]
        elif set(token) & set("|&;<>()$`"):
            LOG.warning("%s is not a plain pipeline (%r): no warm pipeline", mode_file, token)
            return None
        else:
            stages[-1] += (token,)
    return tuple(stages) if all(stages) else None


@lru_cache(maxsize=1)
def _utf8_locale() -> str | None:
    """The first UTF-8 locale ``locale -a`` lists, as the ``apertium`` script picks it."""
    try:
        listed = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return next((name for name in listed.split() if _UTF8.search(name)), None)


class WarmPipeline:
    """One pair's pipeline, started on first use; one request at a time (a lock)."""

    def __init__(self, install: WarmInstall, pair: str) -> None:
        self.install = install
        self.pair = pair
        self._lock = threading.Lock()
        self._stages: list[subprocess.Popen[bytes]] = []
        self._closed = False
        self._last_used = time.monotonic()

    @property
    def pid(self) -> int | None:
        """The first stage's process id (the pipeline's process group), while all run."""
        stages = self._stages
        if not stages or any(stage.returncode is not None for stage in stages):
            return None
        return stages[0].pid

    def translate(self, text: str, timeout_seconds: float) -> str:
        """What ``apertium -u <pair>`` prints for ``text``, decoded as the one-shot run's
        output is (UTF-8, universal newlines). Raises :class:`WarmTimeout` or
        :class:`WarmFailure`; either way the pipeline is left ready for the next request."""
        deadline = time.monotonic() + timeout_seconds
        request = self._run_helper("apertium-destxt", text.encode("utf-8", "replace"), deadline)
        with self._lock:
            if self._closed:
                raise WarmFailure("the pipeline was closed")
            try:
                answer = self._exchange(request, deadline)
            finally:
                self._last_used = time.monotonic()
        output = self._run_helper("apertium-retxt", answer, deadline)
        # The one-shot run reads Apertium's output in text mode: universal newlines.
        return output.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")

    def stop_if_idle(self, idle_seconds: float) -> bool:
        """Stop the running pipeline if no request used it for ``idle_seconds`` (never one
        answering a request now); the next request starts it again. Whether it stopped."""
        if not self._lock.acquire(blocking=False):
            return False  # a request is in flight
        try:
            if not self._stages or time.monotonic() - self._last_used < idle_seconds:
                return False
            LOG.info("warm apertium %s idle for %.0f s: stopped", self.pair, idle_seconds)
            self._kill()
            return True
        finally:
            self._lock.release()

    def close(self) -> None:
        """Kill the pipeline (after the request it may be answering); later requests fail."""
        with self._lock:
            self._closed = True
            self._kill()

    def _run_helper(self, name: str, data: bytes, deadline: float) -> bytes:
        try:
            done = subprocess.run(
                self.install.command(str(self.install.bindir / name)),
                input=data,
                capture_output=True,
                timeout=max(deadline - time.monotonic(), 0.001),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise WarmTimeout(f"{name} did not finish in time") from None
        except OSError as error:
            raise WarmFailure(f"{name} could not run ({error})") from None
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace").strip()[:300]
            raise WarmFailure(f"{name} exited with {done.returncode}: {stderr}")
        return done.stdout

    def _exchange(self, request: bytes, deadline: float) -> bytes:
        """Send one request and read its answer up to the ``\\0``; under the lock."""
        first, last = self._running()
        assert first.stdin is not None and last.stdout is not None
        stdin, stdout = first.stdin.fileno(), last.stdout.fileno()
        pending = memoryview(request + b"\0")
        answer = bytearray()
        try:
            with selectors.DefaultSelector() as selector:
                # Read while writing: a long text's answer starts before its end is sent, and a
                # pipeline whose output is not read stops reading its input.
                selector.register(stdout, selectors.EVENT_READ)
                selector.register(stdin, selectors.EVENT_WRITE)
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise WarmTimeout(f"no answer within the timeout ({len(answer)} bytes)")
                    for key, _ in selector.select(remaining):
                        if key.fd == stdin:
                            with contextlib.suppress(BlockingIOError):
                                pending = pending[os.write(stdin, pending[:_READ_SIZE]) :]
                            if not pending:
                                selector.unregister(stdin)
                            continue
                        chunk = os.read(stdout, _READ_SIZE)
                        if not chunk:
                            raise WarmFailure("the pipeline ended")
                        answer += chunk
                        if answer.endswith(b"\0"):
                            return bytes(answer[:-1])
        except (WarmTimeout, WarmFailure):
            self._kill()
            raise
        except OSError as error:  # BrokenPipeError: the first stage died
            self._kill()
            raise WarmFailure(f"the pipeline failed ({error})") from None

    def _running(self) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
        """The pipeline's first and last stages, started if they are not all running."""
        if self._stages and all(stage.poll() is None for stage in self._stages):
            return self._stages[0], self._stages[-1]
        if self._stages:
            LOG.warning("warm apertium %s had stopped; starting it again", self.pair)
            self._kill()
        stages: list[subprocess.Popen[bytes]] = []
        try:
            for argv in self.install.stages:
                upstream = stages[-1].stdout if stages else None
                # The first stage leads a new process group, which the others join, so that
                # one killpg ends them all.
                stage = subprocess.Popen(
                    self.install.command(*argv),
                    stdin=subprocess.PIPE if upstream is None else upstream,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    bufsize=0,
                    process_group=stages[0].pid if stages else 0,
                )
                if upstream is not None:
                    upstream.close()  # the new stage has it
                stages.append(stage)
        except (OSError, subprocess.SubprocessError) as error:
            self._stages = stages
            self._kill()
            raise WarmFailure(f"the pipeline could not start ({error})") from None
        self._stages = stages
        first, last = stages[0], stages[-1]
        assert first.stdin is not None
        os.set_blocking(first.stdin.fileno(), False)
        return first, last

    def _kill(self) -> None:
        """Kill the pipeline's process group and every stage, and reap them."""
        stages, self._stages = self._stages, []
        if not stages:
            return
        leader = stages[0]
        if leader.returncode is None:  # not reaped: its process group id is still its own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(leader.pid, signal.SIGKILL)
        for stage in stages:
            with contextlib.suppress(ProcessLookupError):
                stage.kill()
            for pipe in (stage.stdin, stage.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            stage.wait()


class WarmPipelines:
    """The process's warm pipelines, least recently used first, at most ``size``."""

    def __init__(self, size: int = MAX_WARM_PIPELINES, idle_seconds: float = IDLE_SECONDS) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._pipelines: OrderedDict[tuple[WarmInstall, str], WarmPipeline] = OrderedDict()
        self._watcher: threading.Thread | None = None

    def get(self, install: WarmInstall, pair: str, *, limit: int | None = None) -> WarmPipeline:
        """The pipeline for ``pair`` of ``install`` (not started yet if new); closes the least
        recently used ones beyond ``limit`` (default ``size``; at least this one is kept)."""
        keep = max(self.size if limit is None else limit, 1)
        key = (install, pair)
        with self._lock:
            pipeline = self._pipelines.pop(key, None) or WarmPipeline(install, pair)
            self._pipelines[key] = pipeline
            if self._watcher is None:
                # One daemon thread per process stops idle pipelines (IDLE_SECONDS).
                self._watcher = threading.Thread(
                    target=self._stop_idle_ones, name="apertium-idle", daemon=True
                )
                self._watcher.start()
            evicted = [
                self._pipelines.popitem(last=False)[1] for _ in range(len(self._pipelines) - keep)
            ]
        for old in evicted:  # outside the pool's lock: it waits for a request in flight
            old.close()
        return pipeline

    def pipelines(self) -> list[WarmPipeline]:
        with self._lock:
            return list(self._pipelines.values())

    def _stop_idle_ones(self) -> None:
        while True:
            time.sleep(self.idle_seconds / 4)
            for pipeline in self.pipelines():
                pipeline.stop_if_idle(self.idle_seconds)

    def close_all(self) -> None:
        with self._lock:
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
        for pipeline in pipelines:
            pipeline.close()


PIPELINES = WarmPipelines()
atexit.register(PIPELINES.close_all)
