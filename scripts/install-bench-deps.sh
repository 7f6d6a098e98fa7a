#!/usr/bin/env bash
# What `make bench` needs beyond `make setup`: ocrmypdf, the tool the OCR throughput
# benchmark compares Pagewise with. Debian's package, so that its Ghostscript, qpdf and
# pikepdf stay out of the project's venvs. No apt at all when it is already installed.
set -euo pipefail
dpkg -s ocrmypdf >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "[bench] installing ocrmypdf" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ocrmypdf >/dev/null
