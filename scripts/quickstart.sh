#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the default multi-task model on the
# default image (classification, segmentation and detection in one pass).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
build/release/bin/polyhead demo --out build/demo "$@"
