#!/usr/bin/env bash
# Quick start: install what is missing, build, run the default multi-task model on the default
# image (classification, segmentation and detection in one pass), then a real model on a real
# photo: MediaPipe's face detector, converted from .tflite, writing an annotated PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release >/dev/null
# Only what the quick start runs: the CLI (scripts/test.sh builds the rest).
cmake --build --preset release -j"$(nproc)" --target polyhead
build/release/bin/polyhead demo --out build/demo "$@"
echo
scripts/fetch_data.sh >/dev/null
build/release/bin/polyhead convert build/data/face_detection_short_range.tflite \
  --preset mediapipe-face-detection-short -o build/demo/face_detection.phm
build/release/bin/polyhead run build/demo/face_detection.phm --image build/data/sample1.jpg \
  --out build/demo/faces.png
