#!/usr/bin/env bash
# The test command: install what is missing, then build and run the whole suite twice, optimised
# (release) and under AddressSanitizer + UndefinedBehaviorSanitizer (asan), then the programs that
# run threads under ThreadSanitizer (tsan), then cross-built for ARM under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
# Real models and photos (build/data) and the LiteRT reference runtime for the agreement tests.
scripts/fetch_data.sh >/dev/null
[[ -d tests/reference_runtimes/litert/node_modules/@litertjs/core ]] ||
  (cd tests/reference_runtimes/litert && npm ci --silent --no-audit --no-fund >/dev/null)
# The ONNX test models (build/onnx_models, exported with Debian's torch; cached by a stamp) and the
# ONNX Runtime reference (npm onnxruntime-node) for the ONNX importer's agreement tests. The tests
# would make them on first use too; doing it here keeps the parallel ctest run from waiting on it.
scripts/make_onnx_models.sh build/onnx_models >/dev/null
scripts/ort_reference.sh --install
# The full-integer TFLite models and native LiteRT's outputs for test_tflite_int8_models
# (build/int8_tflite; a pinned virtualenv with tensorflow-cpu, ~1-2 min to install once, ~1-2 min
# to generate; cached by a stamp afterwards).
scripts/make_int8_tflite_models.sh build/int8_tflite
jobs="$(nproc)"
for preset in release asan; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
# The programs that run threads (label concurrency) under ThreadSanitizer (docs/reliability.md,
# "ThreadSanitizer"). Only their targets are built, so the step stays a few minutes.
echo "== tsan =="
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j"$jobs" --target test_concurrency test_thread_pool \
  test_parallel_heads test_frame_scheduler test_c_api test_c_api_scheduler test_frame_queue \
  tsan_canary
ctest --preset tsan-concurrency -j"$jobs"
# The same suite cross-built for aarch64 and armhf, run under qemu-user (scripts/test_arm.sh).
scripts/test_arm.sh
