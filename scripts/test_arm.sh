#!/usr/bin/env bash
# Cross-builds Polyhead for ARM and runs the whole ctest suite under qemu-user (docs/arm.md):
#   aarch64 as a Cortex-A76 (dot product, fp16 arithmetic) and, with POLYHEAD_ARM_A53=1, also as a
#   Cortex-A53 (NEON only; CI skips it to stay within its time budget), armhf as a Cortex-A7
#   (ARMv7-A with NEON).
#   scripts/test_arm.sh [aarch64] [armhf]        (default: both)
# Makes the sysroots first (scripts/make_sysroot.sh installs the cross compilers and qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
((${#targets[@]})) || targets=(aarch64 armhf)
jobs="$(nproc)"
debian_arches=()
for t in "${targets[@]}"; do
  case "$t" in
    aarch64) debian_arches+=(arm64) ;;
    armhf) debian_arches+=(armhf) ;;
    *) echo "test_arm: unknown target '$t' (expected aarch64 or armhf)" >&2; exit 2 ;;
  esac
done
scripts/make_sysroot.sh "${debian_arches[@]}"
for t in "${targets[@]}"; do
  echo "== $t (cross build) =="
  cmake --preset "$t" >/dev/null
  cmake --build --preset "$t" -j"$jobs"
  test_presets=("$t")
  if [[ "$t" == aarch64 ]]; then
    test_presets=(aarch64-a76)
    [[ "${POLYHEAD_ARM_A53:-0}" == 1 ]] && test_presets+=(aarch64)
  fi
  for p in "${test_presets[@]}"; do
    echo "== $p (ctest under qemu-user, QEMU_CPU from the preset) =="
    ctest --preset "$p" -j"$jobs"
  done
done
