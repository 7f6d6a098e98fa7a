#!/usr/bin/env bash
# Debian/Ubuntu packages Pagewise needs on the host: Tesseract's CLI with the language packs
# (eng spa fra deu ita por cat osd) for the benchmarks only (bench/ compares the OCR engine
# against Debian's CLI, and ocrmypdf needs it); the OCR function never uses them: it runs the
# OCR layer's engine and traineddata (layers/ocr, docs/ocr-engine.md). Then poppler-utils
# (pdftoppm, for PDF checks), DejaVu fonts (embedded in the translated PDF), curl, Apertium
# with its Spanish-English pair (the offline translation provider's machine gist), and
# Chromium (headless, for the web page's browser test; never a browser downloaded by a test
# tool). Skips apt entirely when everything is
# already there.
set -euo pipefail
PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-ita tesseract-ocr-por tesseract-ocr-cat tesseract-ocr-osd poppler-utils fonts-dejavu-core curl apertium apertium-eng-spa chromium)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "[system] installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
