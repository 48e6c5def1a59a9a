# Android arm64-v8a through the Android NDK's own toolchain file. Not testable on this machine
# (no NDK in Debian): see toolchains/README.md for what has to be provided.
#   cmake -B build/android -DCMAKE_TOOLCHAIN_FILE=toolchains/android-arm64.cmake \
#         -DANDROID_NDK=/path/to/ndk -DCMAKE_FIND_ROOT_PATH=/path/to/android-deps
if(NOT ANDROID_NDK)
  if(DEFINED ENV{ANDROID_NDK_HOME})
    set(ANDROID_NDK "$ENV{ANDROID_NDK_HOME}")
  elseif(DEFINED ENV{ANDROID_NDK_ROOT})
    set(ANDROID_NDK "$ENV{ANDROID_NDK_ROOT}")
  endif()
endif()
if(NOT EXISTS "${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
  message(FATAL_ERROR "Android NDK not found (ANDROID_NDK='${ANDROID_NDK}'): pass "
                      "-DANDROID_NDK=/path/to/ndk or set ANDROID_NDK_HOME")
endif()
set(ANDROID_ABI arm64-v8a CACHE STRING "Android ABI")
set(ANDROID_PLATFORM android-26 CACHE STRING "Lowest Android API level")
set(ANDROID_STL c++_shared CACHE STRING "C++ runtime")
include("${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
