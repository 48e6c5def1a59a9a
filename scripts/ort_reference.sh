#!/usr/bin/env bash
# Runs .onnx models with the official ONNX Runtime (npm onnxruntime-node, native CPU execution
# provider): writes their outputs (the reference for Polyhead's ONNX importer tests) or times them
# (the ORT column of the benchmarks). Installs the pinned package
# (tests/reference_runtimes/ort/package-lock.json) with `npm ci` the first time.
#   scripts/ort_reference.sh MODEL.onnx [--input NAME=FILE.f32 ...] --out DIR [--threads N] [--rss]
#   scripts/ort_reference.sh --install
#   scripts/ort_reference.sh --bench --models A.onnx,B.onnx,... [--group ...] [--runs R] [--rounds K]
# See tests/reference_runtimes/ort/README.md.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../tests/reference_runtimes/ort" && pwd)"
command -v node >/dev/null || { echo "ort_reference: node is required (apt-get install nodejs npm)" >&2; exit 1; }
if [[ ! -f "$dir/node_modules/onnxruntime-node/package.json" ]]; then
  command -v npm >/dev/null || { echo "ort_reference: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
  # Tests run in parallel: one installs, the others wait for it.
  exec 9>"${TMPDIR:-/tmp}/polyhead_ort_reference.lock"
  flock 9
  if [[ ! -f "$dir/node_modules/onnxruntime-node/package.json" ]]; then
    # The package bundles the CPU libonnxruntime for linux-x64; its install script would try to
    # download GPU (CUDA) files, which we neither need nor want: skip it.
    (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --silent --no-audit --no-fund >/dev/null) ||
      { echo "ort_reference: npm ci failed in $dir" >&2; exit 1; }
  fi
  exec 9>&-
fi
# `--install` only installs (scripts/test.sh, benchmarks/peers.sh).
[[ "${1:-}" == "--install" ]] && exit 0
exec node "$dir/run.mjs" "$@"
