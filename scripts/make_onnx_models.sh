#!/usr/bin/env bash
# Generates the ONNX test models (scripts/onnx_models/make_models.py) into OUTDIR with Debian's
# torch, torchvision and onnx. Skips the work when OUTDIR/.stamp holds the sha256 of
# make_models.py (the models are a pure function of it and of the Debian packages).
#   scripts/make_onnx_models.sh OUTDIR
# See docs/onnx_models.md.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out="$1"
gen="$(cd "$(dirname "$0")/onnx_models" && pwd)/make_models.py"
# Debian's python (python3-torch etc. are apt packages), not whatever python3 is first on PATH.
py=/usr/bin/python3
want="$(sha256sum "$gen" | cut -d' ' -f1)"
up_to_date() { [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$want" && -f "$out/manifest.json" ]]; }
up_to_date && exit 0
mkdir -p "$out"
# Tests run in parallel: one generates, the others wait for it.
exec 9>"$out/.lock"
flock 9
up_to_date && exit 0
if ! "$py" -c 'import torch, torchvision, onnx' 2>/dev/null; then
  echo "make_onnx_models: $py cannot import torch, torchvision and onnx;" \
       "install python3-torch python3-torchvision python3-onnx (scripts/install_deps.sh does)" >&2
  exit 1
fi
rm -f "$out/.stamp"
start=$SECONDS
"$py" "$gen" "$out"
echo "$want" >"$out/.stamp"
echo "make_onnx_models: done in $((SECONDS - start)) s -> $out"
