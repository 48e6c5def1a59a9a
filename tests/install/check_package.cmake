# Runs `cpack` on a build and checks the Debian package it makes: the architecture of the build,
# dependencies on the system's XNNPACK/pthreadpool/cpuinfo, and the files a user of the package
# needs (the CLI, the shared C library under its SONAME, headers, CMake and pkg-config files,
# the licence). Run by CTest (test `package`):
#   cmake -DBINARY_DIR=<build> -DWORK_DIR=<scratch> -DARCH=<amd64|arm64|armhf> -P check_package.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var BINARY_DIR WORK_DIR ARCH)
  if(NOT ${var})
    message(FATAL_ERROR "check_package: pass -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(CHECK_NAME check_package)
include("${CMAKE_CURRENT_LIST_DIR}/run_step.cmake")

get_filename_component(cmake_dir "${CMAKE_COMMAND}" DIRECTORY)
find_program(CPACK NAMES cpack HINTS "${cmake_dir}" REQUIRED)
run("cpack" "${CPACK}" -G DEB --config "${BINARY_DIR}/CPackConfig.cmake" -B "${WORK_DIR}")
file(GLOB deb "${WORK_DIR}/polyhead_*_${ARCH}.deb")
if(NOT deb)
  file(GLOB made "${WORK_DIR}/*.deb")
  message(FATAL_ERROR "check_package: no polyhead_*_${ARCH}.deb; cpack made: ${made}")
endif()

run("dpkg-deb -f" dpkg-deb -f "${deb}" Package Architecture Depends)
foreach(expected "Package: polyhead" "Architecture: ${ARCH}" "libxnnpack0" "libpthreadpool0"
                 "libcpuinfo0")
  string(FIND "${run_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_package: the control file lacks '${expected}':\n${run_output}")
  endif()
endforeach()
string(REGEX MATCH "Depends: [^\n]+" depends "${run_output}")

run("dpkg-deb -c" dpkg-deb -c "${deb}")
foreach(path "./usr/bin/polyhead" "./usr/include/polyhead/polyhead_c.h"
             "./usr/include/polyhead/engine.h" "./usr/include/polyhead/version.h"
             "/libpolyhead.so.1 -> " "/libpolyhead_engine.a" "/cmake/polyhead/polyheadConfig.cmake"
             "/pkgconfig/polyhead.pc" "/pkgconfig/polyhead-static.pc"
             "./usr/share/doc/polyhead/LICENSE" "./usr/share/doc/polyhead/NOTICE")
  string(FIND "${run_output}" "${path}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_package: ${deb} lacks ${path}:\n${run_output}")
  endif()
endforeach()
file(SIZE "${deb}" bytes)
get_filename_component(name "${deb}" NAME)
message(STATUS "check_package: ${name} (${bytes} bytes), ${depends}")
