#!/usr/bin/env bash
# The peer suite in one command: Polyhead and every peer that can load the model (LiteRT with
# XNNPACK, ONNX Runtime from Python and from Node.js, ncnn, MNN, OpenCV DNN) on every model of the
# suite, at 1 and 2 threads, in interleaved shuffled rounds; writes build/peers/peers.md and
# build/peers/peers.json (benchmarks/peers/README.md).
#   benchmarks/peers.sh [--cases suite|multitask|all] [--models KEY,...] [run_peers.py options]
#     --cases suite      (default) the suite: 3 MediaPipe models, MobileNetV2/V3-small, the
#                        multitask model, ResNet-50, EfficientNet-B0, RegNetY-400MF, ShuffleNetV2
#     --cases multitask  the merge benchmark: merged model (one pass, three tasks) vs the three
#                        separate models in turn, Polyhead vs ONNX Runtime, 1 thread
#     --cases int8       full-integer TFLite models (scripts/make_int8_tflite_models.sh): Polyhead's
#                        int8 (the converted .phm) vs native LiteRT int8 (XNNPACK), 1 and 2 threads
#     --cases all        all three ("models" is accepted as the old name of "suite")
#     --models KEY,...   only these suite models (keys: benchmarks/peers/prepare_models.py)
#   run_peers.py options pass through, e.g. --rounds 9 --runs 30 --peers polyhead,litert
#   --threads 1,2 (--peers litert,litert-no-xnnpack is the XNNPACK check).
set -euo pipefail
cd "$(dirname "$0")/.."
which=suite
models=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cases) which="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    *) break ;;
  esac
done
[[ "$which" == models ]] && which=suite
case "$which" in
  suite|multitask|int8|all) ;;
  *) echo "peers.sh: --cases must be suite, multitask, int8 or all, got '$which'" >&2; exit 2 ;;
esac
build=build/release
work=build/peers
venv=build/peers-venv
mkdir -p "$work"
[[ -f build/data/selfie_segmentation.tflite ]] || scripts/fetch_data.sh >&2
scripts/make_onnx_models.sh build/onnx_models >&2
scripts/make_peer_models.sh build/peer_models >&2
scripts/ort_reference.sh --install >&2
[[ "$which" == int8 || "$which" == all ]] && scripts/make_int8_tflite_models.sh build/int8_tflite >&2
benchmarks/peers/make_venv.sh "$venv"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target polyhead peer_polyhead peer_opencv >&2
# The int8 comparison keeps its own files, beside the suite's.
tag=""
[[ "$which" == int8 ]] && tag="-int8"
prepare=(--work "$work" --bin "$build/bin" --venv "$venv" --suite "$which" -o "$work/cases$tag.json")
[[ -n "$models" ]] && prepare+=(--models "$models")
python3 benchmarks/peers/prepare_models.py "${prepare[@]}"
extra=()
[[ "$which" == multitask ]] && extra=(--peers polyhead,onnxruntime --threads 1)
[[ "$which" == int8 ]] && extra=(--peers polyhead,litert)
python3 benchmarks/peers/run_peers.py --cases "$work/cases$tag.json" --bin "$build/bin" \
  --venv "$venv" --json "$work/peers$tag.json" --markdown "$work/peers$tag.md" "${extra[@]}" "$@"
