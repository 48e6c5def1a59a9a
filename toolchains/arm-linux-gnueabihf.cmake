# 32-bit ARM Linux, hard-float (ARMv7-A with VFPv3-D16: Debian armhf, Raspberry Pi 2+, i.MX 6,
# BeagleBone) with Debian's cross compiler (crossbuild-essential-armhf) and the sysroot of
# scripts/make_sysroot.sh armhf. Debian's armhf baseline has no NEON: the build stays baseline
# and only the NEON kernel files get -mfpu=neon; the NEON variant is chosen at run time when
# the CPU reports it (every Cortex-A7/A9/A15/A53 in 32-bit mode does).
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(POLYHEAD_CROSS_TRIPLE arm-linux-gnueabihf)
set(POLYHEAD_CROSS_DEBIAN_ARCH armhf)
set(POLYHEAD_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
