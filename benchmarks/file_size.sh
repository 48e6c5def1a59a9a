#!/usr/bin/env bash
# int8 file size against fp32 (docs/quantize.md, "File size"): converts each model, quantizes it
# with the options below and prints a Markdown table of sizes and ratios to the fp32 file, then
# `polyhead inspect`'s bytes per section of the smallest int8 file. Sizes do not depend on the
# machine, so one run is the figure.
#   benchmarks/file_size.sh [--weight-scales half|float]
set -euo pipefail
cd "$(dirname "$0")/.."
weight_scales=half
while (($#)); do
  case "$1" in
    --weight-scales) weight_scales="$2"; shift 2 ;;
    *) echo "file_size.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
work=build/file_size
mkdir -p "$work"
# bin, data, onnx, calib: as benchmarks/int8.sh has them.
source benchmarks/int8_inputs.sh

# name | source | convert options | quantize options of every int8 column (benchmarks/int8.sh's)
cases=(
  "MediaPipe face detection short range|$data/face_detection_short_range.tflite|--preset mediapipe-face-detection-short|--int8-stem"
  "MediaPipe selfie segmentation|$data/selfie_segmentation.tflite|--preset mediapipe-selfie-segmentation|"
  "MediaPipe selfie segmentation, int8 stem|$data/selfie_segmentation.tflite|--preset mediapipe-selfie-segmentation|--int8-stem"
  "MediaPipe pose landmark lite|$data/pose_landmark_lite.tflite|--preset mediapipe-pose-landmark-lite|"
  "MobileNetV2 (seeded ONNX)|$onnx/mobilenet_v2.onnx||"
)
size() { stat -c %s "$1"; }
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
echo "| model | fp32 | int8 | ratio | \`--names short\` | ratio | \`--bias-scales implied\` | ratio | both | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
i=0
for c in "${cases[@]}"; do
  IFS='|' read -r name src convert extra <<<"$c"
  i=$((i + 1))
  fp32="$work/m$i.phm" fp32_short="$work/m$i.short.phm"
  # shellcheck disable=SC2086
  "$bin" convert "$src" $convert -o "$fp32" >/dev/null
  # shellcheck disable=SC2086
  "$bin" convert "$src" $convert --names short -o "$fp32_short" >/dev/null
  row="| $name | $(size "$fp32")"
  for variant in plain short implied both; do
    in="$fp32" opts=()
    case "$variant" in
      short) in="$fp32_short" opts=(--names short) ;;
      implied) opts=(--bias-scales implied) ;;
      both) in="$fp32_short" opts=(--names short --bias-scales implied) ;;
    esac
    out="$work/m$i.$variant.int8.phm"
    # shellcheck disable=SC2086
    "$bin" quantize "$in" "${calib[@]}" -o "$out" --method percentile \
      --weight-scales "$weight_scales" "${opts[@]}" $extra --quiet >/dev/null
    row+=" | $(size "$out") | $(ratio "$(size "$out")" "$(size "$fp32")")"
  done
  echo "$row |"
done
echo
echo "Bytes per section of the face detector's smallest int8 file ($work/m1.both.int8.phm):"
"$bin" inspect "$work/m1.both.int8.phm" | sed -n '/^file sections/,$p'
