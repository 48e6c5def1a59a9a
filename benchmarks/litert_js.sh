#!/usr/bin/env bash
# The MediaPipe models under LiteRT.js (LiteRT compiled to WebAssembly, tests/reference_runtimes/litert),
# for reference next to bench_mediapipe. WebAssembly in Node is not a fair speed peer of native
# code: read these as context, not as a competitor's best.
#   scripts/fetch_data.sh && benchmarks/litert_js.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
data="${POLYHEAD_DATA_DIR:-build/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for model in face_detection_short_range selfie_segmentation pose_landmark_lite; do
  case "$model" in
    face_detection_short_range) count=$((128 * 128 * 3)) ;;
    *) count=$((256 * 256 * 3)) ;;
  esac
  # A smooth input in [0, 1]: latency does not depend on the values.
  python3 -c "import struct,math,sys; sys.stdout.buffer.write(struct.pack('<%df' % $count, *[0.5 + 0.4 * math.sin(0.01 * i) for i in range($count)]))" > "$work/$model.f32"
  scripts/litert_reference.sh "$data/$model.tflite" --input "$work/$model.f32" --out "$work/$model" \
    --wasm default --repeat "$runs"
done
