#!/usr/bin/env bash
# Installs the Debian 12 packages Polyhead builds and tests with, if any is missing.
set -euo pipefail
packages=(
  build-essential cmake pkgconf file
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libflatbuffers-dev flatbuffers-compiler
  catch2 libbenchmark-dev
  libopencv-dev python3-skimage python3-torch python3-torchvision python3-onnx libonnx-dev
  libprotobuf-dev protobuf-compiler
  libjpeg-dev
  python3-venv python3-dev
  # Test data: OpenCV's sample videos (Megamind.avi, vtest.avi) for `polyhead stream`.
  opencv-doc
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm fetch the test data and run the LiteRT reference (tests/reference_runtimes/litert).
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
