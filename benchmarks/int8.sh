#!/usr/bin/env bash
# int8 against fp32 on the same machine, in the same run (docs/quantize.md): converts each model,
# quantizes it with `polyhead quantize` on calibration photos, then `polyhead compare` runs both on
# evaluation photos (accuracy per task kind, file size, arena and latency ratios from interleaved
# rounds, medians) and the table is written to build/int8/int8.md.
#   benchmarks/int8.sh [--rounds N] [--runs N] [--threads N] [--method M]
# Calibration and evaluation photos are disjoint: calibration uses @vladmandic/face-api's
# sample1-3 and python3-skimage photos, evaluation sample4-6 and astronaut.png.
# The full-integer TFLite models (scripts/make_int8_tflite_models.sh) come last, with native
# LiteRT's int8 latency beside Polyhead's (the other models have no int8 .tflite: n/a).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5 runs=30 threads=1 method=percentile
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --method) method="$2"; shift 2 ;;
    *) echo "int8.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
work=build/int8
mkdir -p "$work"
# bin, data, onnx, the calibration photos (calib) and the evaluation photos (eval_args).
source benchmarks/int8_inputs.sh

# name | source | convert options | extra quantize options. Every int8 file is written with
# `--names short --bias-scales implied` (docs/quantize.md, "File size"): same outputs, smaller file.
# The accuracy targets (mask IoU >= 0.97, landmark error <= 1 % of the input) need --auto on the
# selfie and pose models; their plain rows show the speed without it. Selfie's budget is 0.01 on
# the calibration photos because 0.03 there gave only 0.951 on the evaluation photos.
cases=(
  "mobilenet_v2|$onnx/mobilenet_v2.onnx||"
  "mobilenet_v3_small|$onnx/mobilenet_v3_small.onnx||"
  "selfie_segmentation|$data/selfie_segmentation.tflite|--preset mediapipe-selfie-segmentation|"
  "selfie_segmentation_auto|$data/selfie_segmentation.tflite|--preset mediapipe-selfie-segmentation|--auto --max-drop 0.01 --limit 4"
  "face_detection|$data/face_detection_short_range.tflite|--preset mediapipe-face-detection-short|--int8-stem"
  "pose_landmarks|$data/pose_landmark_lite.tflite|--preset mediapipe-pose-landmark-lite|"
  "pose_landmarks_auto|$data/pose_landmark_lite.tflite|--preset mediapipe-pose-landmark-lite|--auto --max-drop landmarks=0.01,segmentation=0.03 --limit 4"
)
reports=()
for c in "${cases[@]}"; do
  IFS='|' read -r name src convert extra <<<"$c"
  echo "== $name" >&2
  # shellcheck disable=SC2086
  "$bin" convert "$src" $convert -o "$work/$name.phm" >/dev/null
  # shellcheck disable=SC2086
  "$bin" quantize "$work/$name.phm" "${calib[@]}" -o "$work/$name.int8.phm" \
    --method "$method" --names short --bias-scales implied $extra \
    --json "$work/$name.quantize.json" >&2
  "$bin" compare "$work/$name.phm" "$work/$name.int8.phm" "${eval_args[@]}" --rounds "$rounds" \
    --runs "$runs" --threads "$threads" --json "$work/$name.compare.json" >&2
  reports+=("$name")
done

# The full-integer TFLite models (docs/int8.md, "Full-integer TFLite models"): the int8 model is
# TensorFlow's own full-integer conversion (not `polyhead quantize`), the fp32 model its float twin
# (same weights), and native LiteRT with XNNPACK times the same int8 .tflite for the "LiteRT int8"
# column (its own process, median of rounds x runs; the Polyhead pair is interleaved by compare).
int8_tflite=build/int8_tflite
scripts/make_int8_tflite_models.sh "$int8_tflite" >&2
litert_python=build/int8-tflite-venv/bin/python
for m in mobilenet_v2 mobilenet_v3_small detector; do
  name="keras_${m}_full_integer"
  echo "== $name" >&2
  # The Keras models take x / 127.5 - 1.
  for kind in fp32 int8; do
    suffix=""
    [[ $kind == int8 ]] && suffix=".int8"
    "$bin" convert "$int8_tflite/${m}_$kind.tflite" --mean 127.5 --std 127.5 \
      -o "$work/$name$suffix.phm" >/dev/null
  done
  rm -f "$work/$name.quantize.json"
  "$bin" compare "$work/$name.phm" "$work/$name.int8.phm" "${eval_args[@]}" --rounds "$rounds" \
    --runs "$runs" --threads "$threads" --json "$work/$name.compare.json" >&2
  "$litert_python" benchmarks/peers/peer_litert.py --models "$int8_tflite/${m}_int8.tflite" \
    --threads "$threads" --warmup 5 --runs $((rounds * runs)) |
    python3 -c 'import json, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])
json.dump({"latency_ms": d["median_ms"], "runtime": d["runtime"]}, sys.stdout)' \
    >"$work/$name.litert.json"
  reports+=("$name")
done
python3 benchmarks/int8_report.py "$work" "${reports[@]}" | tee "$work/int8.md"
