#!/usr/bin/env bash
# Generates the extra torchvision architectures of the peer suite (ResNet-50, EfficientNet-B0,
# RegNetY-400MF, ShuffleNetV2; scripts/onnx_models/make_peer_models.py) into OUTDIR with Debian's
# torch, torchvision and onnx. Skips the work when OUTDIR/.stamp holds the sha256 of the generator
# and of make_models.py, whose helpers it uses. The test models (scripts/make_onnx_models.sh) are
# not touched. See docs/onnx_models.md.
#   scripts/make_peer_models.sh OUTDIR
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out="$1"
dir="$(cd "$(dirname "$0")/onnx_models" && pwd)"
py=/usr/bin/python3
want="$(cat "$dir/make_peer_models.py" "$dir/make_models.py" | sha256sum | cut -d' ' -f1)"
up_to_date() {
  [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$want" && -f "$out/manifest.json" ]]
}
up_to_date && exit 0
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
up_to_date && exit 0
if ! "$py" -c 'import torch, torchvision, onnx' 2>/dev/null; then
  echo "make_peer_models: $py cannot import torch, torchvision and onnx;" \
       "install python3-torch python3-torchvision python3-onnx (scripts/install_deps.sh does)" >&2
  exit 1
fi
rm -f "$out/.stamp"
start=$SECONDS
"$py" "$dir/make_peer_models.py" "$out"
echo "$want" >"$out/.stamp"
echo "make_peer_models: done in $((SECONDS - start)) s -> $out"
