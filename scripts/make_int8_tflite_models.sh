#!/usr/bin/env bash
# Generates the full-integer TFLite test models (seeded Keras MobileNetV2, MobileNetV3Small and a
# small two-head detector, converted by tensorflow-cpu's TFLiteConverter to int8 with float I/O)
# and native LiteRT's reference outputs on the calibration photos into OUTDIR, with
# OUTDIR/manifest.json (provenance, sizes, sha256, output quantization). Runs in its own pinned
# virtualenv (default build/int8-tflite-venv, from scripts/int8_tflite/requirements.txt; needs
# network access once: tensorflow-cpu is a 259 MB wheel). Skips the work when OUTDIR/.stamp holds
# the sha256 of the generator files. See docs/int8.md, "Full-integer TFLite models".
#   scripts/make_int8_tflite_models.sh OUTDIR [VENV]
# PIP_FIND_LINKS=DIR (pip's own variable) lets pip take the pinned wheels from a local folder.
set -euo pipefail
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 OUTDIR [VENV]" >&2; exit 2; }
out="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/scripts/int8_tflite"
venv="${2:-$root/build/int8-tflite-venv}"
req="$dir/requirements.txt"
want="$(cat "$0" "$dir/make_int8_models.py" "$req" | sha256sum | cut -d' ' -f1)"
up_to_date() {
  [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$want" && -f "$out/manifest.json" ]]
}
up_to_date && exit 0
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
up_to_date && exit 0
for photo in sample1 sample2 sample3 sample4 sample5 sample6; do
  [[ -f "$root/build/data/$photo.jpg" ]] ||
    { echo "make_int8_tflite_models: build/data/$photo.jpg missing; run scripts/fetch_data.sh" >&2; exit 1; }
done
start=$SECONDS
if ! [[ -x "$venv/bin/python" ]] || ! cmp -s "$req" "$venv/.requirements"; then
  # Debian's python3 (python3-venv): the interpreter the wheels are pinned for (cp311).
  py=/usr/bin/python3
  "$py" -m venv --help >/dev/null 2>&1 ||
    { echo "make_int8_tflite_models: $py has no venv module; apt-get install python3-venv" >&2; exit 1; }
  rm -f "$venv/.requirements"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  broken="$("$venv/bin/python" -m pip check --disable-pip-version-check || true)"
  if [[ "$broken" != "No broken requirements found." ]]; then
    echo "$broken" >&2
    echo "make_int8_tflite_models: $req misses a dependency (above)" >&2
    exit 1
  fi
  cp "$req" "$venv/.requirements"
  echo "make_int8_tflite_models: virtualenv $venv ready in $((SECONDS - start)) s" >&2
fi
rm -f "$out/.stamp"
"$venv/bin/python" "$dir/make_int8_models.py" "$out" 2>"$out/generator.log" ||
  { tail -20 "$out/generator.log" >&2; exit 1; }
echo "$want" >"$out/.stamp"
echo "make_int8_tflite_models: done in $((SECONDS - start)) s -> $out" >&2
