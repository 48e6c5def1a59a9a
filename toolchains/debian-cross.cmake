# Shared part of the Debian cross toolchains (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake).
# The caller sets POLYHEAD_CROSS_TRIPLE, POLYHEAD_CROSS_DEBIAN_ARCH, POLYHEAD_CROSS_QEMU and
# CMAKE_SYSTEM_PROCESSOR, then includes this file.
#
# Two roots: the cross toolchain's own (/usr/<triple>: C library, libstdc++) and the sysroot that
# scripts/make_sysroot.sh unpacks from Debian's arm packages (XNNPACK, pthreadpool, cpuinfo,
# FlatBuffers, Catch2, Google Benchmark). The sysroot holds no C library, so it is a find root
# and not CMAKE_SYSROOT.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${POLYHEAD_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${POLYHEAD_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${POLYHEAD_CROSS_TRIPLE})

# Where make_sysroot.sh put the packages; the environment variable wins so that try_compile
# projects (which re-read this file) see the same folder.
if(DEFINED ENV{POLYHEAD_SYSROOT})
  set(POLYHEAD_SYSROOT "$ENV{POLYHEAD_SYSROOT}")
else()
  get_filename_component(POLYHEAD_SYSROOT
    "${CMAKE_CURRENT_LIST_DIR}/../build/sysroot/${POLYHEAD_CROSS_DEBIAN_ARCH}" ABSOLUTE)
endif()
if(NOT EXISTS "${POLYHEAD_SYSROOT}/usr/include/xnnpack.h")
  message(FATAL_ERROR "No ${POLYHEAD_CROSS_DEBIAN_ARCH} sysroot at ${POLYHEAD_SYSROOT}: run "
                      "scripts/make_sysroot.sh ${POLYHEAD_CROSS_DEBIAN_ARCH} first (or set "
                      "POLYHEAD_SYSROOT)")
endif()
set(POLYHEAD_CROSS_LIBDIR "${POLYHEAD_SYSROOT}/usr/lib/${POLYHEAD_CROSS_TRIPLE}")

set(CMAKE_FIND_ROOT_PATH "${POLYHEAD_SYSROOT}" "/usr/${POLYHEAD_CROSS_TRIPLE}")
# Libraries, headers and packages only from the ARM roots; programs (flatc) from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libXNNPACK.so needs libcpuinfo.so.0 and libpthreadpool.so.0: let the linker find them there.
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "-Wl,-rpath-link,${POLYHEAD_CROSS_LIBDIR}")
endforeach()

# Tests (and Catch2's test discovery) run under qemu-user. The cross toolchain's C library is
# forced through LD_LIBRARY_PATH: mixing it with a multiarch libc6:<arch> makes pthread_create
# hang. The CPU model comes from $QEMU_CPU (the test presets set it).
find_program(POLYHEAD_QEMU ${POLYHEAD_CROSS_QEMU})
if(POLYHEAD_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR
    "${POLYHEAD_QEMU};-L;/usr/${POLYHEAD_CROSS_TRIPLE};-E;LD_LIBRARY_PATH=/usr/${POLYHEAD_CROSS_TRIPLE}/lib:${POLYHEAD_CROSS_LIBDIR}")
endif()
