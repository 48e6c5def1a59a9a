#!/usr/bin/env bash
# The peer suite in one command: Polyhead vs ONNX Runtime (npm onnxruntime-node) vs OpenCV DNN
# (Debian's OpenCV 4.6) on the generated models, interleaved, at 1 and 2 threads; prints a
# markdown table (benchmarks/peers/README.md).
#   benchmarks/peers.sh [--cases all|models|multitask] [run_peers.py options, e.g. --rounds 7]
# "multitask" is the ONNX issue's benchmark: the merged model (one pass, three tasks) vs the three
# separate models one after another, in Polyhead and in ONNX Runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
which=all
if [[ "${1:-}" == "--cases" ]]; then
  which="$2"
  shift 2
fi
build=build/release
models=build/onnx_models
work=build/peers
mkdir -p "$work"
scripts/make_onnx_models.sh "$models" >&2
scripts/ort_reference.sh --install >&2
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target polyhead peer_polyhead peer_opencv >&2
for m in mobilenet_v2 mobilenet_v3_small multitask classify segment detect; do
  "$build/bin/polyhead" convert "$models/$m.onnx" -o "$work/$m.phm" >/dev/null
done
"$build/bin/polyhead" merge "$work/classify.phm" "$work/segment.phm" "$work/detect.phm" \
  -o "$work/merged.phm" >&2

m224='[[1,3,224,224]]'
models_cases=$(cat <<JSON
 {"name": "MobileNetV2 224", "phm": ["$work/mobilenet_v2.phm"],
  "onnx": ["$models/mobilenet_v2.onnx"], "shapes": $m224},
 {"name": "MobileNetV3-small 224", "phm": ["$work/mobilenet_v3_small.phm"],
  "onnx": ["$models/mobilenet_v3_small.onnx"], "shapes": $m224}
JSON
)
s160='[1,3,160,160]'
multitask_cases=$(cat <<JSON
 {"name": "3 tasks: merged model, one pass", "phm": ["$work/merged.phm"],
  "onnx": ["$models/multitask.onnx"], "shapes": [$s160]},
 {"name": "3 tasks: separate models in turn", "phm": ["$work/classify.phm", "$work/segment.phm", "$work/detect.phm"],
  "onnx": ["$models/classify.onnx", "$models/segment.onnx", "$models/detect.onnx"],
  "shapes": [$s160, $s160, $s160]}
JSON
)
case "$which" in
  all) cases="[$models_cases, $multitask_cases]" ;;
  models) cases="[$models_cases]" ;;
  multitask) cases="[$multitask_cases]" ;;
  *) echo "peers.sh: --cases must be all, models or multitask, got '$which'" >&2; exit 2 ;;
esac
echo "$cases" > "$work/cases.json"
extra=()
[[ "$which" == multitask ]] && extra=(--runtimes polyhead,onnxruntime --threads 1)
python3 benchmarks/peers/run_peers.py --cases "$work/cases.json" --bin "$build/bin" \
  --json "$work/peers.json" --markdown "$work/peers.md" "${extra[@]}" "$@"
