#!/usr/bin/env bash
# Coverage-guided fuzzing of the tests/fuzz harnesses with libFuzzer (docs/fuzzing.md). Builds the
# `fuzz` preset (clang-14, -fsanitize=fuzzer,address,undefined) into build/fuzz, runs one target
# on a working copy of its corpus and prints its figures.
#
#   scripts/fuzz.sh TARGET [SECONDS]   fuzz one target for SECONDS (default 60)
#   scripts/fuzz.sh all [SECONDS]      every target in turn, SECONDS each
#   scripts/fuzz.sh seeds              rewrite the seeds in tests/fuzz/corpus/ (the release
#                                      build's polyhead_fuzz_seeds)
#   scripts/fuzz.sh minimise TARGET    merge the working corpus's small inputs that add coverage
#                                      into tests/fuzz/corpus/TARGET (-merge=1)
#
# TARGET: phm_model, tflite_import, onnx_import, image_input (the fuzz_ prefix may be given).
# Environment:
#   FUZZ_RUNS=N        stop after N executions instead of SECONDS (-runs=N; SECONDS still caps it)
#   FUZZ_ARGS="..."    more libFuzzer flags
#   FUZZ_KEEP_BYTES=N  minimise: the largest input kept (default 4096)
#
# Where things go, under build/fuzz/: corpus/TARGET (the working corpus, seeded from
# tests/fuzz/corpus/TARGET and tests/fuzz/regressions/TARGET, grows between runs),
# artifacts/TARGET/ (crash-*, leak-*, timeout-*, oom-* inputs: minimise one with
# `build/fuzz/tests/fuzz/fuzz_TARGET -minimize_crash=1 -runs=10000 FILE` and add it to
# tests/fuzz/regressions/TARGET/), logs/TARGET.log (the full libFuzzer output).
#
# One fuzzing process with one thread at a time: the runs must not hog a shared machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/fuzz"
targets=(phm_model tflite_import onnx_import image_input)
# Stack traces for UBSan reports too (ASan prints its own); libFuzzer sets halt_on_error.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
# OpenCV refuses images over 256x256 pixels: fuzz_image_input is about our pre-processing, and
# bigger ones only measure OpenCV's decoders (read when OpenCV loads, so set here).
export OPENCV_IO_MAX_IMAGE_PIXELS="${OPENCV_IO_MAX_IMAGE_PIXELS:-65536}"

usage() {
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

# clang-14 and libFuzzer's runtime (Debian: clang-14, libclang-rt-14-dev).
ensure_clang() {
  if command -v clang++-14 >/dev/null &&
     compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
    return
  fi
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends clang-14 libclang-rt-14-dev
}

build_targets() {
  ensure_clang
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  [ -f "$build/CMakeCache.txt" ] || cmake --preset fuzz -S "$root" "${launcher[@]}" >/dev/null
  cmake --build "$build" -j"${FUZZ_BUILD_JOBS:-2}" --target "$@"
}

# libFuzzer settings per target: the longest input mutated (seeds longer than this are truncated
# while fuzzing; ctest still replays them whole) and the dictionary.
max_len() {
  case "$1" in
    phm_model) echo 16384 ;;
    tflite_import) echo 16384 ;;
    onnx_import) echo 8192 ;;
    image_input) echo 4096 ;;
  esac
}
# More libFuzzer flags per target. image_input: libjpeg's warnings on every corrupt file would
# fill the log and slow the run, so the target's stderr is closed (sanitizer and libFuzzer reports
# still print).
extra_args() {
  case "$1" in
    image_input) echo "-close_fd_mask=2" ;;
  esac
}
dict() {
  case "$1" in
    phm_model) echo "$root/tests/fuzz/phm.dict" ;;
    tflite_import) echo "$root/tests/fuzz/tflite.dict" ;;
    onnx_import) echo "$root/tests/fuzz/onnx.dict" ;;
    image_input) echo "" ;;
  esac
}

target_name() {
  local t="${1#fuzz_}"
  for known in "${targets[@]}"; do
    [ "$t" = "$known" ] && { echo "$t"; return; }
  done
  echo "fuzz.sh: unknown target '$1' (${targets[*]})" >&2
  exit 2
}

# The last status line and the final stats of a libFuzzer log, as one summary line.
summarise() {
  local t="$1" log="$2" seconds="$3"
  local execs rate rss line cov ft corp
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  line=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$line")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$line")
  corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$line")
  local found
  found=$(find "$build/artifacts/$t" -type f 2>/dev/null | wc -l)
  printf '%-14s execs %s  exec/s %s  cov %s  ft %s  corpus %s  peak RSS %s MB  wall %ss  artifacts %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$seconds" "$found"
}

run_target() {
  local t="$1" seconds="$2"
  local bin="$build/tests/fuzz/fuzz_$t"
  local work="$build/corpus/$t" artifacts="$build/artifacts/$t" log="$build/logs/$t.log"
  mkdir -p "$work" "$artifacts" "$build/logs"
  local args=(-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
              -detect_leaks=1 -print_final_stats=1 -max_total_time="$seconds"
              -artifact_prefix="$artifacts/")
  local d
  d="$(dict "$t")"
  [ -n "$d" ] && args+=(-dict="$d")
  # shellcheck disable=SC2207
  args+=($(extra_args "$t"))
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  # shellcheck disable=SC2206
  [ -n "${FUZZ_ARGS:-}" ] && args+=(${FUZZ_ARGS})
  local cmd=("$bin" "${args[@]}" "$work" "$root/tests/fuzz/corpus/fuzz_$t"
             "$root/tests/fuzz/regressions/fuzz_$t")
  echo "+ ${cmd[*]}" | tee "$log"
  local start end status=0
  start=$(date +%s)
  "${cmd[@]}" >>"$log" 2>&1 || status=$?
  end=$(date +%s)
  summarise "$t" "$log" "$((end - start))"
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: fuzz_$t stopped with status $status: see $log and $artifacts/" >&2
    return "$status"
  fi
}

# Writes fresh seeds into tests/fuzz/corpus/TARGET (replacing those of the same name, keeping the
# inputs `minimise` added), all of them (each made for a reason) but files over 300 KB.
seeds() {
  cmake --build "$root/build/release" -j"${FUZZ_BUILD_JOBS:-2}" --target polyhead_fuzz_seeds
  local out="$build/seeds"
  rm -rf "$out"
  # Without the fuzzing cap on pixels: the seeds are made from a full-size photo.
  env -u OPENCV_IO_MAX_IMAGE_PIXELS "$root/build/release/tests/fuzz/polyhead_fuzz_seeds" "$out" \
    "$root/build/data" "$root/build/onnx_models"
  for t in "${targets[@]}"; do
    local corpus="$root/tests/fuzz/corpus/fuzz_$t"
    mkdir -p "$corpus"
    find "$out/fuzz_$t" -type f -size -307201c -exec cp {} "$corpus/" \;
    echo "$t: $(find "$out/fuzz_$t" -type f -size -307201c | wc -l) seeds written to $corpus"
  done
}

# Adds to tests/fuzz/corpus/TARGET the inputs of the working corpus, up to FUZZ_KEEP_BYTES
# (default 4096) each, that reach features the checked-in corpus does not (libFuzzer's
# -merge=1, which keeps the smallest input per feature): the replay stays small and fast.
minimise() {
  local t="$1" from="${2:-$build/corpus/$1}"
  local corpus="$root/tests/fuzz/corpus/fuzz_$t" small="$build/merge/$t"
  local before
  before=$(find "$corpus" -type f | wc -l)
  rm -rf "$small"
  mkdir -p "$small" "$corpus"
  find "$from" -type f -size -$((${FUZZ_KEEP_BYTES:-4096} + 1))c -exec cp {} "$small/" \;
  "$build/tests/fuzz/fuzz_$t" -merge=1 -timeout=30 "$corpus" "$small" \
    >"$build/logs/merge_$t.log" 2>&1
  echo "$t: $before -> $(find "$corpus" -type f | wc -l) files," \
    "$(du -sb "$corpus" | cut -f1) bytes in $corpus"
}

[ $# -ge 1 ] || usage
case "$1" in
  -h|--help) usage ;;
  seeds) mkdir -p "$build/logs"; seeds ;;
  minimise) [ $# -ge 2 ] || usage; t=$(target_name "$2"); build_targets "fuzz_$t"; minimise "$t" ;;
  all)
    seconds="${2:-60}"
    build_targets "${targets[@]/#/fuzz_}"
    failed=0
    for t in "${targets[@]}"; do run_target "$t" "$seconds" || failed=1; done
    exit "$failed"
    ;;
  *)
    t=$(target_name "$1")
    build_targets "fuzz_$t"
    run_target "$t" "${2:-60}"
    ;;
esac
