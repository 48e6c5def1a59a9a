#!/usr/bin/env bash
# The test command: install what is missing, then build and run the whole suite twice, optimised
# (release) and under AddressSanitizer + UndefinedBehaviorSanitizer (asan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
jobs="$(nproc)"
for preset in release asan; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
