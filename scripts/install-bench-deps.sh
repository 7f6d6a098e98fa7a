#!/usr/bin/env bash
# What `make bench` needs beyond `make setup`: ocrmypdf, the tool the OCR throughput
# benchmark compares Pagewise with (Debian's package, so that its Ghostscript, qpdf and
# pikepdf stay out of the project's venvs; no apt at all when it is already installed), and
# the libraries bench/language_accuracy.py and bench/deskew_accuracy.py compare our code with
# (the `libcompare` extra, into .venvs/dev; their models ship in the wheels, nothing is
# downloaded at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s ocrmypdf >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[bench] installing ocrmypdf" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ocrmypdf >/dev/null
fi
.venvs/uv/bin/uv pip install -q -p .venvs/dev -e ".[dev,libcompare]"
