# 64-bit ARM Linux (ARMv8-A: Raspberry Pi 3/4/5, Jetson, i.MX 8, RK3399/RK3588...) with Debian's
# cross compiler (crossbuild-essential-arm64) and the sysroot of scripts/make_sysroot.sh arm64.
# NEON is part of the baseline; dot-product and fp16 arithmetic are chosen at run time.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(POLYHEAD_CROSS_TRIPLE aarch64-linux-gnu)
set(POLYHEAD_CROSS_DEBIAN_ARCH arm64)
set(POLYHEAD_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
