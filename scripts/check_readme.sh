#!/usr/bin/env bash
# Runs the shell blocks of README.md as a newcomer pastes them: in order, from the repository root
# as the quick start leaves it, each in a fresh `bash -euo pipefail`. Prints one line per block
# (README line, first command, pass/fail/skip, seconds) and the output of each failing block;
# exits 1 when a block fails, 2 when the set-up is missing.
#
#   scripts/check_readme.sh [BIN_DIR] [SCRATCH_DIR]
#
# BIN_DIR      the polyhead build to test (default build/release/bin). The blocks call
#              build/release/bin/polyhead; the scratch tree links that folder to BIN_DIR, so the
#              asan preset's ctest runs the same blocks on its own binary.
# SCRATCH_DIR  where the blocks run (default build/readme_check), made afresh every time as the
#              repository root looks after scripts/quickstart.sh: scripts/ (a link),
#              build/release/bin (a link to BIN_DIR), build/data and build/onnx_models (links to
#              $POLYHEAD_DATA_DIR and $POLYHEAD_ONNX_MODELS_DIR, default the repository's), and
#              build/demo, written here as the quick start writes it. What the blocks write lands
#              under SCRATCH_DIR/build/.
#
# Convention: every ```sh block of README.md runs, unless the line before it (blank lines may
# sit between) is the mark
#   <!-- readme-check: skip (why) -->
# The mark is for what cannot run here: the quick start itself (it would run this check again
# through scripts/test.sh), whole builds, ARM boards. Blocks in other languages (```cpp,
# ```text, ```console) never run. An unmarked block that calls scripts/quickstart.sh or
# scripts/test.sh fails without running.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme="$root/README.md"
bin="${1:-$root/build/release/bin}"
scratch="${2:-$root/build/readme_check}"
data="${POLYHEAD_DATA_DIR:-$root/build/data}"
onnx_models="${POLYHEAD_ONNX_MODELS_DIR:-$root/build/onnx_models}"

die() {
  echo "check_readme: $*" >&2
  exit 2
}
[[ -x "$bin/polyhead" ]] || die "no polyhead in '$bin' (build it: cmake --build --preset release)"
bin="$(cd "$bin" && pwd)"
for f in selfie_segmentation.tflite face_detection_short_range.tflite sample1.jpg; do
  [[ -f "$data/$f" ]] || die "missing $data/$f: run scripts/fetch_data.sh"
done
data="$(cd "$data" && pwd)"
mkdir -p "$onnx_models"
onnx_models="$(cd "$onnx_models" && pwd)"

# The repository root as the quick start leaves it.
case "$scratch" in /*) ;; *) scratch="$PWD/$scratch" ;; esac
rm -rf "$scratch"
mkdir -p "$scratch/build/release" "$scratch/build/demo" "$scratch/blocks"
ln -s "$root/scripts" "$scratch/scripts"
ln -s "$bin" "$scratch/build/release/bin"
ln -s "$data" "$scratch/build/data"
ln -s "$onnx_models" "$scratch/build/onnx_models"
(
  cd "$scratch"
  # The last steps of scripts/quickstart.sh (after building and fetching).
  build/release/bin/polyhead demo --out build/demo
  build/release/bin/polyhead convert build/data/face_detection_short_range.tflite \
    --preset mediapipe-face-detection-short -o build/demo/face_detection.phm
) >"$scratch/quickstart.log" 2>&1 || {
  cat "$scratch/quickstart.log" >&2
  die "the quick start's demo and face detector conversion failed"
}

# Split README.md into blocks/NNN.sh (the block's lines) and blocks/NNN.info
# ("LINE<TAB>skip reason", the reason empty for a block to run).
awk -v dir="$scratch/blocks" '
  /^<!-- readme-check: skip/ {
    reason = $0
    sub(/^<!-- readme-check: skip[ ]*/, "", reason)
    sub(/[ ]*-->[ ]*$/, "", reason)
    sub(/^\(/, "", reason)
    sub(/\)$/, "", reason)
    if (reason == "") reason = "marked"
    marked = reason
    next
  }
  in_block && /^```/ { in_block = 0; close(file); next }
  in_block { print > file; next }
  /^```sh[ ]*$/ {
    n++
    file = sprintf("%s/%03d.sh", dir, n)
    printf "" > file
    printf "%d\t%s\n", NR + 1, marked > sprintf("%s/%03d.info", dir, n)
    close(sprintf("%s/%03d.info", dir, n))
    in_block = 1
    marked = ""
    next
  }
  /[^ \t]/ { marked = "" }
' "$readme"

failed=0 ran=0 skipped=0
start_all=$EPOCHREALTIME
for block in "$scratch"/blocks/*.sh; do
  [[ -e "$block" ]] || die "no \`\`\`sh blocks in $readme"
  IFS=$'\t' read -r line reason <"${block%.sh}.info"
  # The first command, without its comment, for the report.
  first="$(grep -m1 -v -E '^[[:space:]]*(#|$)' "$block" || true)"
  first="$(sed -E 's/[[:space:]]+#.*$//; s/[[:space:]]*\\$/ .../' <<<"$first")"
  ((${#first} > 72)) && first="${first:0:69}..."
  label="$(printf 'README.md:%-4s %-72s' "$line" "$first")"
  if [[ -n "$reason" ]]; then
    echo "$label skip ($reason)"
    skipped=$((skipped + 1))
    continue
  fi
  if grep -q -E 'scripts/(quickstart|test)\.sh' "$block"; then
    echo "$label FAIL: calls the quick start or the test script; mark it <!-- readme-check: skip (...) -->"
    failed=$((failed + 1))
    continue
  fi
  log="${block%.sh}.log"
  t0=$EPOCHREALTIME
  status=0
  # Sourced under an ERR trap, so a failure names its README line and command.
  (cd "$scratch" && bash -euo pipefail -c '
    trap '\''echo "check_readme: README.md:$(($1 + LINENO - 1)): \"$BASH_COMMAND\" failed" >&2'\'' ERR
    source "$0"' "$block" "$line") >"$log" 2>&1 </dev/null || status=$?
  seconds="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
  ran=$((ran + 1))
  if ((status == 0)); then
    echo "$label pass $seconds s"
  else
    echo "$label FAIL (exit $status) $seconds s; its last lines:"
    tail -n 30 "$log" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
total="$(awk -v a="$start_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
echo "check_readme: $ran block(s) run, $failed failed, $skipped skipped, $total s (outputs in $scratch)"
((failed == 0))
