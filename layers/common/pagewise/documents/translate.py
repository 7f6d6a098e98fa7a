"""Translation results, and the offline provider used when no LLM is configured.

The offline provider never pretends to translate. It returns, in order of preference:

* an Apertium *gist* (rule-based machine translation) when the page's language has an
  Apertium pair into English installed on the host (Debian packages ``apertium`` plus e.g.
  ``apertium-eng-spa``), labelled as a gist and never as a legal translation;
* otherwise the source text, labelled as untranslated.

Apertium missing, failing or too slow is not an error: the page falls back to the source text.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pagewise.documents.apertium_warm import (
    MAX_WARM_PIPELINES,
    PIPELINES,
    WarmFailure,
    WarmTimeout,
    warm_install,
)
from pagewise.documents.glossary import GlossaryEntry, TermMatch, term_matches
from pagewise.documents.language import to_iso3 as normalise_language

LOG = logging.getLogger(__name__)

OFFLINE_NOTE = "Not translated: no LLM is configured; this is the source text."
ENGLISH_SOURCE_NOTE = (
    "Source text, already in English: no LLM is configured, so there is no plain-English version."
)
APERTIUM_NOTE = "Apertium gist (rule-based machine translation), not a legal translation."
APERTIUM_PROVIDER = "apertium"
OFFLINE_PROVIDER = "offline"
DEFAULT_APERTIUM_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PageTranslation:
    """One page in legal and plain English, labelled with who produced it.

    ``translated`` is False whenever the text is not a real translation (the source text, or
    an Apertium gist), so the API and the PDF can say so instead of passing it off as a
    translation. ``provider`` says which: ``"offline"`` (source text), ``"apertium"`` (machine
    gist; ``model`` is the Apertium pair, e.g. ``"spa-eng"``), ``"openai"`` or
    ``"openai-compatible"`` (an LLM; ``model`` is the model name). ``detected_language`` is
    the page's language as the LLM reported it (ISO 639-1), when known.
    """

    legal_english: str
    plain_english: str
    provider: str
    model: str | None
    translated: bool
    note: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    detected_language: str | None = None
    # The glossary entries found on the page whose English term the translation uses, and
    # those it does not (issue 17).
    glossary_applied: tuple[GlossaryEntry, ...] = ()
    glossary_missed: tuple[GlossaryEntry, ...] = ()


# --- Apertium --------------------------------------------------------------------------------

# Apertium mode names into English, newest naming (ISO 639-3) first. Debian bookworm ships
# spa-eng (apertium-eng-spa), cat-eng (apertium-eng-cat), gl-en, eu-en, eo-en, hbs-eng,
# isl-eng and mkd-eng; the older two-letter names are tried too.
_APERTIUM_MODES = {
    "spa": ("spa-eng", "es-en"),
    "cat": ("cat-eng", "ca-en"),
    "glg": ("glg-eng", "gl-en"),
    "eus": ("eus-eng", "eu-en"),
    "epo": ("epo-eng", "eo-en"),
    "hbs": ("hbs-eng", "sh-en"),
    "isl": ("isl-eng", "is-en"),
    "mkd": ("mkd-eng", "mk-en"),
}


@lru_cache(maxsize=8)
def _installed_modes(apertium_cmd: str, datadir: str | None = None) -> frozenset[str]:
    """The modes ``apertium -l`` lists; empty when Apertium is not installed or fails."""
    executable = shutil.which(apertium_cmd)
    if executable is None:
        return frozenset()
    try:
        proc = subprocess.run(
            [executable, *_datadir_option(datadir), "-l"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        LOG.warning("apertium -l failed: %s", error)
        return frozenset()
    # "apertium -l" exits 1 on some versions even when it lists the modes.
    return frozenset(line.strip() for line in proc.stdout.splitlines() if line.strip())


def _datadir_option(datadir: str | None) -> list[str]:
    return ["-d", datadir] if datadir else []


def apertium_pair(
    source_language: str | None, *, apertium_cmd: str = "apertium", datadir: str | None = None
) -> str | None:
    """The installed Apertium mode that translates ``source_language`` into English, if any."""
    language = normalise_language(source_language)
    if language is None or language not in _APERTIUM_MODES:
        return None
    modes = _installed_modes(apertium_cmd, datadir)
    return next((mode for mode in _APERTIUM_MODES[language] if mode in modes), None)


def apertium_gist(
    text: str,
    pair: str,
    *,
    apertium_cmd: str = "apertium",
    timeout_seconds: float = DEFAULT_APERTIUM_TIMEOUT_SECONDS,
    datadir: str | None = None,
    warm_pipelines: int = MAX_WARM_PIPELINES,
) -> str | None:
    """What ``apertium -u <pair>`` prints for ``text``; None when it fails or times out.

    ``-u`` drops Apertium's ``*``/``#``/``@`` marks on unknown words: the gist is for a person
    skimming, and the note already says what it is. ``datadir``: Apertium's data directory
    (the ``APERTIUM_DATADIR`` setting; unset, the installation's own).

    Where ``apertium_cmd`` is a real installation, the pair's pipeline is kept warm between
    calls (:mod:`pagewise.documents.apertium_warm`; same output, about a sixth of the time),
    at most ``warm_pipelines`` pairs per process (the ``APERTIUM_WARM_PIPELINES`` setting; 0:
    never): a timeout returns None, and a pipeline that crashes is replaced by one
    ``apertium`` run for this call. Anything else (a stand-in script, text with a NUL) is one
    ``apertium`` run.
    """
    executable = shutil.which(apertium_cmd)
    if executable is None:
        return None
    warm = warm_pipelines > 0 and "\0" not in text
    install = warm_install(executable, pair, datadir) if warm else None
    if install is not None:
        try:
            pipeline = PIPELINES.get(install, pair, limit=warm_pipelines)
            stdout = pipeline.translate(text, timeout_seconds)
        except WarmTimeout as error:
            LOG.warning(
                "apertium %s timed out after %.1f s (%s); using the source text",
                pair,
                timeout_seconds,
                error,
            )
            return None
        except WarmFailure as error:
            LOG.warning("warm apertium %s failed (%s); running apertium once", pair, error)
        else:
            if not stdout.strip():
                LOG.warning("apertium %s gave no text; using the source text", pair)
                return None
            return stdout.rstrip("\n")
    return apertium_once(
        text, pair, executable=executable, timeout_seconds=timeout_seconds, datadir=datadir
    )


def apertium_once(
    text: str,
    pair: str,
    *,
    executable: str,
    timeout_seconds: float = DEFAULT_APERTIUM_TIMEOUT_SECONDS,
    datadir: str | None = None,
) -> str | None:
    """One ``apertium -u <pair>`` run on ``text`` (via stdin); None when it fails or times
    out."""
    try:
        # ``apertium`` is a shell pipeline of several processes: run it in its own session so
        # that a timeout can kill all of them (killing the shell alone leaves the others
        # holding the pipes open).
        with subprocess.Popen(
            [executable, *_datadir_option(datadir), "-u", pair],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(text, timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                LOG.warning(
                    "apertium %s timed out after %.1f s; using the source text",
                    pair,
                    timeout_seconds,
                )
                return None
    except OSError as error:
        LOG.warning("apertium %s could not run (%s); using the source text", pair, error)
        return None
    if proc.returncode != 0 or not stdout.strip():
        LOG.warning(
            "apertium %s failed (exit %s): %s; using the source text",
            pair,
            proc.returncode,
            stderr.strip()[:300],
        )
        return None
    return stdout.rstrip("\n")


# --- the offline provider --------------------------------------------------------------------


def translate_offline(
    text: str,
    source_language: str | None = None,
    *,
    apertium_cmd: str | None = "apertium",
    apertium_timeout_seconds: float = DEFAULT_APERTIUM_TIMEOUT_SECONDS,
    apertium_datadir: str | None = None,
    apertium_warm_pipelines: int = MAX_WARM_PIPELINES,
    glossary: Sequence[GlossaryEntry] = (),
) -> PageTranslation:
    """The page without an LLM: an Apertium gist where a pair into English is installed,
    otherwise the source text; both labelled as not being a translation.

    ``source_language`` accepts ISO 639-1 (``es``) or Tesseract codes (``spa``, ``spa+eng``).
    ``apertium_cmd=None`` disables Apertium; ``apertium_datadir`` is its data directory (the
    ``APERTIUM_DATADIR`` setting; unset, the installation's own); ``apertium_warm_pipelines``
    as ``warm_pipelines`` of :func:`apertium_gist`. ``glossary``: the gist uses
    the entries' English terms: each occurrence of a source term is replaced by a placeholder
    word Apertium passes through unchanged, and the placeholder by the English term after it;
    in the source text (no Apertium pair) the English term follows the source term in
    brackets. The note says so.
    """
    body = text if text.strip() else ""
    language = normalise_language(source_language)
    terms = GlossaryTerms(glossary)
    if body and apertium_cmd:
        pair = apertium_pair(language, apertium_cmd=apertium_cmd, datadir=apertium_datadir)
        if pair is not None:
            gist = apertium_gist(
                terms.hide(body),
                pair,
                apertium_cmd=apertium_cmd,
                timeout_seconds=apertium_timeout_seconds,
                datadir=apertium_datadir,
                warm_pipelines=apertium_warm_pipelines,
            )
            if gist is not None:
                gist = terms.restore(gist)
                return PageTranslation(
                    legal_english=gist,
                    plain_english=gist,
                    provider=APERTIUM_PROVIDER,
                    model=pair,
                    translated=False,
                    note=APERTIUM_NOTE + terms.note(),
                    glossary_applied=terms.applied,
                )
    annotated = terms.annotate(body)
    return PageTranslation(
        legal_english=annotated,
        plain_english=annotated,
        provider=OFFLINE_PROVIDER,
        model=None,
        translated=False,
        note=(ENGLISH_SOURCE_NOTE if body and language == "eng" else OFFLINE_NOTE) + terms.note(),
        glossary_applied=terms.applied,
    )


class GlossaryTerms:
    """A glossary's English terms in text that no LLM translates (the offline gist of a page
    and of the overlay's blocks): :meth:`hide` replaces each occurrence of a source term by a
    placeholder word Apertium passes through unchanged (unique across every text hidden with
    this object, so that several texts can go through one Apertium run) and :meth:`restore`
    puts the English term in its place; :meth:`annotate` (no Apertium) adds ``[target]`` after
    each source term. :attr:`applied` lists the entries used, in the order first met."""

    def __init__(self, entries: Sequence[GlossaryEntry]) -> None:
        self._entries = list(entries)
        self._placeholders: dict[str, str] = {}
        self._applied: dict[GlossaryEntry, None] = {}

    def _matches(self, text: str) -> list[TermMatch]:
        matches = term_matches(self._entries, text) if self._entries and text.strip() else []
        self._applied.update(dict.fromkeys(match.entry for match in matches))
        return matches

    def hide(self, text: str) -> str:
        out = text
        matches = self._matches(text)
        first = len(self._placeholders)
        for index, match in reversed(list(enumerate(matches, start=first))):
            word = _placeholder(index)
            self._placeholders[word] = match.entry.target
            out = out[: match.start] + word + out[match.end :]
        return out

    def restore(self, text: str) -> str:
        for placeholder, target in self._placeholders.items():
            text = text.replace(placeholder, target)
        return text

    def annotate(self, text: str) -> str:
        out = text
        for match in reversed(self._matches(text)):
            out = out[: match.end] + f" [{match.entry.target}]" + out[match.end :]
        return out

    @property
    def applied(self) -> tuple[GlossaryEntry, ...]:
        return tuple(self._applied)

    def note(self) -> str:
        """What the page's note adds: the terms applied (empty when none)."""
        if not self._applied:
            return ""
        return (
            " Glossary terms applied: "
            + "; ".join(f"{e.source} → {e.target}" for e in self._applied)
            + "."
        )


def _placeholder(index: int) -> str:
    """A word of letters only that no dictionary has: Apertium copies it as it is."""
    letters = ""
    index += 26 * 26  # always three letters
    while index:
        index, rest = divmod(index, 26)
        letters = chr(ord("a") + rest) + letters
    return f"Qqglos{letters}q"
