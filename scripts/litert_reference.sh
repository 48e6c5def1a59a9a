#!/usr/bin/env bash
# Runs a .tflite model with the official LiteRT runtime (npm @litertjs/core, WebAssembly, CPU) and
# writes its outputs: the reference for Polyhead's agreement tests. Installs the pinned package
# (tests/reference_runtimes/litert/package-lock.json) with `npm ci` the first time.
#   scripts/litert_reference.sh MODEL.tflite --input FILE.f32 [--input ...] --out DIR
# See tests/reference_runtimes/litert/README.md.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../tests/reference_runtimes/litert" && pwd)"
command -v node >/dev/null || { echo "litert_reference: node is required (apt-get install nodejs npm)" >&2; exit 1; }
if [[ ! -d "$dir/node_modules/@litertjs/core" ]]; then
  command -v npm >/dev/null || { echo "litert_reference: npm is required (apt-get install npm)" >&2; exit 1; }
  # Tests run in parallel: one installs, the others wait for it.
  exec 9>"${TMPDIR:-/tmp}/polyhead_litert_reference.lock"
  flock 9
  if [[ ! -d "$dir/node_modules/@litertjs/core" ]]; then
    (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null) ||
      { echo "litert_reference: npm ci failed in $dir" >&2; exit 1; }
  fi
  exec 9>&-
fi
exec node "$dir/run.mjs" "$@"
