#!/usr/bin/env bash
# The test command: install what is missing, then build and run the whole suite twice, optimised
# (release) and under AddressSanitizer + UndefinedBehaviorSanitizer (asan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
# Real models and photos (build/data) and the LiteRT reference runtime for the agreement tests.
scripts/fetch_data.sh >/dev/null
[[ -d tools/litert_reference/node_modules/@litertjs/core ]] ||
  (cd tools/litert_reference && npm ci --silent --no-audit --no-fund >/dev/null)
jobs="$(nproc)"
for preset in release asan; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
