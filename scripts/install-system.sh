#!/usr/bin/env bash
# Install the Debian packages Malgeul needs (only the missing ones; quiet when all are there).
set -euo pipefail
PACKAGES=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor tesseract-ocr-script-hang  # OCR
  espeak-ng ffmpeg sox                                                          # speech
  fonts-nanum fonts-noto-cjk                                                    # rendering Korean test images
  pocketsphinx-testdata                                                         # real human speech for tests
  chromium                                                                      # browser tests of the demo pages
  docker-compose                                                                # validating docker-compose.yml
)
python=${PYTHON:-python3}
if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then PACKAGES+=(python3-venv python3-dev); fi
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
