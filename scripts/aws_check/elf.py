"""Every ELF file of every function and layer loads on AWS's python3.13 runtime.

* glibc: the highest ``GLIBC_x.y`` among its versioned symbol requirements (``.gnu.version_r``,
  what ``objdump -T`` lists) is at most 2.34, the glibc of Amazon Linux 2023.
* nothing outside the artefact: each ``DT_NEEDED`` library is found in the function's own
  code or layers (on the file's ``$ORIGIN`` RPATH/RUNPATH or the Lambda library path:
  ``/var/task``, ``/var/task/lib``, ``/opt/lib``), or is in ``RUNTIME_LIBRARIES``; no RPATH or
  RUNPATH names an absolute host path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from scripts.aws_check import Result
from scripts.aws_check.artefacts import Artefacts, Function

MAX_GLIBC = (2, 34)  # Amazon Linux 2023 (the python3.13 runtime) ships glibc 2.34
# What a library may assume from AWS's python3.13 runtime (Amazon Linux 2023) without shipping
# it. Sources: the manylinux policy (pypa/auditwheel, policy/manylinux-policy.json,
# "lib_whitelist" of manylinux_2_28), without its X11/GL/GLib entries, which the Lambda image
# does not carry; plus the interpreter itself (/var/lang/lib/libpython3.13.so.1.0) and zlib,
# which the runtime's own Python links against.
RUNTIME_LIBRARIES = frozenset(
    {
        # glibc 2.34 (the glibc package of AL2023)
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "librt.so.1",
        "libpthread.so.0",
        "libutil.so.1",
        "libresolv.so.2",
        "libnsl.so.1",
        "libcrypt.so.1",
        "ld-linux-x86-64.so.2",
        # the GCC runtime (libgcc, libstdc++ packages, in the runtime image)
        "libgcc_s.so.1",
        "libstdc++.so.6",
        # what the runtime's Python itself links against
        "libpython3.13.so.1.0",
        "libz.so.1",
    }
)
_ELF_MAGIC = b"\x7fELF"
_GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class ElfInfo:
    path: Path
    glibc: tuple[int, int]  # (0, 0) when it needs no versioned glibc symbol
    needed: tuple[str, ...]
    search_paths: tuple[str, ...]  # RPATH and RUNPATH entries, as written


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == _ELF_MAGIC
    except OSError:
        return False


def read_elf(path: Path) -> ElfInfo:
    glibc = (0, 0)
    needed: list[str] = []
    search: list[str] = []
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for auxiliary in auxiliaries:
                        match = _GLIBC.match(auxiliary.name)
                        if match:
                            glibc = max(glibc, (int(match[1]), int(match[2])))
            elif isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    # pyelftools sets needed/rpath/runpath by tag, untyped: getattr.
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(getattr(tag, "needed"))  # noqa: B009
                    elif tag.entry.d_tag == "DT_RPATH":
                        search += getattr(tag, "rpath").split(":")  # noqa: B009
                    elif tag.entry.d_tag == "DT_RUNPATH":
                        search += getattr(tag, "runpath").split(":")  # noqa: B009
    return ElfInfo(path, glibc, tuple(needed), tuple(path for path in search if path))


def elf_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and is_elf(path):
            yield path


def _version(version: tuple[int, int]) -> str:
    return f"GLIBC_{version[0]}.{version[1]}" if version != (0, 0) else "none"


def _resolvable(info: ElfInfo, function: Function) -> list[str]:
    """The problems with ``info``'s libraries inside ``function`` (empty when it loads)."""
    roots = [function.path, *(layer.path for layer in function.layers)]
    # The Lambda library path inside the artefact: /var/task, /var/task/lib, /opt/lib.
    lambda_dirs = [function.path, function.path / "lib"] + [
        layer.path / "lib" for layer in function.layers
    ]
    problems = []
    origin_dirs = []
    for entry in info.search_paths:
        if entry.startswith("$ORIGIN") or entry.startswith("${ORIGIN}"):
            relative = entry.split("}", 1)[-1] if entry.startswith("${") else entry[7:]
            origin_dirs.append(Path(str(info.path.parent) + relative).resolve())
        else:
            problems.append(f"RPATH/RUNPATH names a host path {entry!r}")
    for library in info.needed:
        if library in RUNTIME_LIBRARIES:
            continue
        if any((directory / library).exists() for directory in origin_dirs + lambda_dirs):
            continue
        anywhere = [root for root in roots if any(root.rglob(library))]
        where = " (it is in the artefact, but not on the file's RPATH or the Lambda path)"
        problems.append(f"needs {library}, not shipped{where if anywhere else ''}")
    return problems


def check(artefacts: Artefacts) -> list[Result]:
    infos: dict[Path, ElfInfo] = {}
    unreadable: list[str] = []
    roots = [f.path for f in artefacts.functions] + [layer.path for layer in artefacts.layers]
    listing = {root: list(elf_files(root)) for root in dict.fromkeys(roots)}
    for paths in listing.values():
        for path in paths:
            try:
                infos[path] = read_elf(path)
            except ELFError as error:
                unreadable.append(f"{path}: {error}")

    too_new = sorted(
        (info for info in infos.values() if info.glibc > MAX_GLIBC), key=lambda info: info.path
    )
    highest = max(infos.values(), key=lambda info: info.glibc, default=None)
    figure = f"{len(infos)} ELF files, highest {_version(highest.glibc) if highest else 'none'}"
    if highest is not None and highest.glibc != (0, 0):
        figure += f" ({highest.path.name})"
    results = [
        Result(
            f"glibc <= {MAX_GLIBC[0]}.{MAX_GLIBC[1]} (AWS python3.13, Amazon Linux 2023)",
            not too_new and not unreadable,
            figure,
            "; ".join(
                [f"{info.path} needs {_version(info.glibc)}" for info in too_new[:10]]
                + unreadable[:10]
            ),
        )
    ]

    unresolved: list[str] = []
    checked = 0
    for function in artefacts.functions:
        for root in (function.path, *(layer.path for layer in function.layers)):
            for path in listing[root]:
                if path not in infos:
                    continue
                checked += 1
                unresolved += [
                    f"{function.name}: {path.relative_to(root.parent)} {problem}"
                    for problem in _resolvable(infos[path], function)
                ]
    results.append(
        Result(
            "shared libraries inside the artefact (or AWS's runtime)",
            not unresolved,
            f"{checked} ELF files across {len(artefacts.functions)} functions, "
            f"{len(unresolved)} unresolved",
            "; ".join(unresolved[:10]),
        )
    )
    return results
