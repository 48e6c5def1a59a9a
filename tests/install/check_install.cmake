# Installs the build into a fresh prefix, checks that only the public headers were installed (none
# of polyhead/runtime, polyhead/kernels, polyhead/schema), then configures, builds and runs
# tests/install/consumer, a separate project that knows Polyhead only through find_package. Then
# builds examples/ the same way and runs each example on the model `polyhead demo` writes, and
# builds examples/c_api.c with the C compiler and pkg-config alone, against the shared
# libpolyhead.so (`pkg-config --cflags --libs polyhead`, which must export ph_* only) and the static
# archives (`pkg-config --static --cflags --libs polyhead-static`).
# The version must be the same everywhere: the CMake package, polyhead.pc, polyhead/version.h,
# ph_version() and `polyhead --version`.
# Run by CTest (test `install`):
#   cmake -DBINARY_DIR=<build> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#         -DC_COMPILER=<cc> -DCXX_COMPILER=<c++> [-DBUILD_TYPE=Release] [-DLAUNCHER=ccache]
#         [-DSANITIZE=ON] [-DPOLYHEAD_CLI=<build>/bin/polyhead] -P tests/install/check_install.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var BINARY_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER)
  if(NOT ${var})
    message(FATAL_ERROR "check_install: pass -D${var}=...")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
if(NOT POLYHEAD_CLI)
  set(POLYHEAD_CLI "${BINARY_DIR}/bin/polyhead")  # where cli/CMakeLists.txt puts it
endif()
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer")
set(examples_build "${WORK_DIR}/examples")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(CHECK_NAME check_install)
include("${CMAKE_CURRENT_LIST_DIR}/run_step.cmake")

run("cmake --install" "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${prefix}")

# The installed headers: the public API, nothing of the layers below it.
file(GLOB_RECURSE installed RELATIVE "${prefix}/include" "${prefix}/include/*")
set(unexpected "")
foreach(file IN LISTS installed)
  if(NOT file MATCHES "^polyhead/[a-z_]+\\.h$" AND NOT file MATCHES "^polyhead/vision/[a-z_]+\\.h$")
    list(APPEND unexpected "${file}")
  endif()
endforeach()
foreach(internal runtime kernels schema)
  if(EXISTS "${prefix}/include/polyhead/${internal}")
    list(APPEND unexpected "polyhead/${internal}/")
  endif()
endforeach()
if(unexpected)
  list(JOIN unexpected ", " unexpected)
  message(FATAL_ERROR "check_install: not public API, yet installed: ${unexpected}")
endif()
foreach(header engine.h model.h model_builder.h model_enums.h polyhead_c.h format_version.h
               version.h status.h result.h tensor.h)
  if(NOT EXISTS "${prefix}/include/polyhead/${header}")
    message(FATAL_ERROR "check_install: public header polyhead/${header} was not installed")
  endif()
endforeach()
list(LENGTH installed count)
message(STATUS "check_install: ${count} public headers installed, none of runtime/kernels/schema")
# The licence and the third-party notices travel with the library.
foreach(doc LICENSE NOTICE CHANGELOG.md)
  file(GLOB_RECURSE found "${prefix}/*/doc/polyhead/${doc}")
  if(NOT found)
    message(FATAL_ERROR "check_install: ${doc} was not installed (share/doc/polyhead)")
  endif()
endforeach()

# The release version, as the build generated it into polyhead/version.h.
file(STRINGS "${prefix}/include/polyhead/version.h" version_line REGEX "^#define PH_VERSION_STRING ")
string(REGEX REPLACE "^.*\"([0-9.]+)\".*$" "\\1" version "${version_line}")
if(NOT version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "check_install: no PH_VERSION_STRING in the installed polyhead/version.h")
endif()

# A user's project: find_package(polyhead) from the prefix alone. The same arguments configure the
# consumer and the examples.
set(configure_args
  -G "${GENERATOR}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_C_COMPILER_LAUNCHER=${LAUNCHER}"
       "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
set(sanitizer_flags "")
if(SANITIZE)
  # The installed archives were built with the sanitizers: their runtimes must be linked too.
  set(sanitizer_flags "-fsanitize=address,undefined")
  list(APPEND configure_args "-DCMAKE_C_FLAGS=${sanitizer_flags}"
       "-DCMAKE_CXX_FLAGS=${sanitizer_flags}" "-DCMAKE_EXE_LINKER_FLAGS=${sanitizer_flags}")
endif()
run("configuring the consumer project" "${CMAKE_COMMAND}"
    -S "${SOURCE_DIR}/tests/install/consumer" -B "${consumer_build}" ${configure_args}
    "-DPOLYHEAD_EXPECTED_PREFIX=${prefix}" "-DPOLYHEAD_EXPECTED_VERSION=${version}")
run("building the consumer project" "${CMAKE_COMMAND}" --build "${consumer_build}")

run("running the consumer" "${consumer_build}/consumer" "${WORK_DIR}/model.phm")
if(NOT run_output MATCHES "consumer: ok")
  message(FATAL_ERROR "check_install: the consumer did not report ok:\n${run_output}")
endif()
message(STATUS "check_install: ${run_output}")
# The vision component, when it was installed.
file(GLOB_RECURSE vision_export "${prefix}/*/polyheadVisionTargets.cmake")
if(vision_export)
  if(NOT EXISTS "${consumer_build}/vision_consumer")
    message(FATAL_ERROR "check_install: polyhead_vision is installed but find_package(polyhead) "
                        "did not provide it to the consumer project")
  endif()
  run("running the vision consumer" "${consumer_build}/vision_consumer")
  message(STATUS "check_install: ${run_output}")
endif()

# The examples, built the way examples/README.md says, run on the model `polyhead demo` writes (a
# small one, to keep the sanitizer run short). Without the CLI (POLYHEAD_BUILD_TOOLS=OFF) they run
# on the consumer's model and zeros for input.
if(EXISTS "${POLYHEAD_CLI}")
  run("polyhead --version" "${POLYHEAD_CLI}" --version)
  if(NOT run_output MATCHES "^polyhead ${version} \\(model format [0-9]+\\.[0-9]+\\)\n$")
    message(FATAL_ERROR "check_install: `polyhead --version` does not name ${version}:\n${run_output}")
  endif()
  run("polyhead demo" "${POLYHEAD_CLI}" demo --out "${WORK_DIR}/demo" --size 96 --width 0.5)
  set(example_args "${WORK_DIR}/demo/mobilenet_multitask.phm" "${WORK_DIR}/demo/image.f32")
  set(frames 4)  # task_subsets' third argument
else()
  message(STATUS "check_install: no ${POLYHEAD_CLI}: the examples run on the consumer's model")
  set(example_args "${WORK_DIR}/model.phm")
endif()
run("configuring the examples" "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/examples" -B "${examples_build}"
    ${configure_args})
run("building the examples" "${CMAKE_COMMAND}" --build "${examples_build}")

# classify and c_api: every task ran, and the C++ and C programs print the same top-5.
set(top5 "")
foreach(example classify c_api)
  run("running examples/${example}" "${examples_build}/${example}" ${example_args})
  string(REGEX MATCH "\n    top-5:[^\n]+" ${example}_top5 "${run_output}")
  if(NOT run_output MATCHES "\nran [1-9][0-9]* nodes\n" OR NOT ${example}_top5)
    message(FATAL_ERROR "check_install: examples/${example} printed no run or no top-5:\n${run_output}")
  endif()
endforeach()
if(NOT classify_top5 STREQUAL c_api_top5)
  message(FATAL_ERROR "check_install: classify and c_api disagree:${classify_top5}${c_api_top5}")
endif()
string(STRIP "${classify_top5}" shown)
message(STATUS "check_install: examples classify and c_api ran, both print ${shown}")

# task_subsets: frame 0 runs every task (the whole plan), frame 1 skips segmentation.
run("running examples/task_subsets" "${examples_build}/task_subsets" ${example_args} ${frames})
foreach(frame 0 1)
  if(NOT run_output MATCHES "\nframe ${frame}: ran ([0-9]+) of ([0-9]+) nodes")
    message(FATAL_ERROR "check_install: task_subsets printed no frame ${frame}:\n${run_output}")
  endif()
  set(ran ${CMAKE_MATCH_1})
  set(of ${CMAKE_MATCH_2})
  if((frame EQUAL 0 AND NOT ran EQUAL of) OR (frame EQUAL 1 AND NOT ran LESS of))
    message(FATAL_ERROR "check_install: task_subsets' frame ${frame} ran ${ran} of ${of} nodes:\n"
                        "${run_output}")
  endif()
endforeach()
message(STATUS "check_install: examples/task_subsets ran ${ran} of ${of} nodes on frame 1")

# pkg-config: the installed polyhead.pc, found through PKG_CONFIG_PATH, links the C example with
# the C compiler alone.
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "check_install: pkg-config not found (scripts/install_deps.sh installs pkgconf)")
endif()
file(GLOB_RECURSE pc_file "${prefix}/*/pkgconfig/polyhead.pc")
if(NOT pc_file)
  message(FATAL_ERROR "check_install: polyhead.pc was not installed")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run("pkg-config --modversion" "${PKG_CONFIG_EXECUTABLE}" --modversion polyhead)
string(STRIP "${run_output}" pc_version)
if(NOT pc_version STREQUAL version)
  message(FATAL_ERROR "check_install: polyhead.pc says ${pc_version}, version.h ${version}")
endif()
# examples/c_api.c built twice with the C compiler and pkg-config alone: against the shared
# libpolyhead.so (polyhead.pc) and against the static archives (polyhead-static.pc); both print
# the top-5 the CMake build printed.
separate_arguments(sanitizer_list UNIX_COMMAND "${sanitizer_flags}")
get_filename_component(installed_libdir "${pc_dir}" DIRECTORY)
foreach(variant shared static)
  if(variant STREQUAL shared)
    set(pc_args --cflags --libs polyhead)
  else()
    set(pc_args --static --cflags --libs polyhead-static)
  endif()
  run("pkg-config ${pc_args}" "${PKG_CONFIG_EXECUTABLE}" ${pc_args})
  separate_arguments(pc_flags UNIX_COMMAND "${run_output}")
  run("compiling examples/c_api.c with pkg-config ${pc_args}" "${C_COMPILER}" -std=c99
      ${sanitizer_list} "${SOURCE_DIR}/examples/c_api.c" ${pc_flags}
      -o "${WORK_DIR}/c_api_${variant}")
  # The prefix is not on the loader's path: say where libpolyhead.so is.
  run("running the ${variant} pkg-config build of c_api" "${CMAKE_COMMAND}" -E env
      "LD_LIBRARY_PATH=${installed_libdir}" "${WORK_DIR}/c_api_${variant}" ${example_args})
  string(REGEX MATCH "\n    top-5:[^\n]+" pc_top5 "${run_output}")
  if(NOT pc_top5 STREQUAL c_api_top5)
    message(FATAL_ERROR "check_install: the ${variant} pkg-config build of c_api printed another "
                        "top-5:\n${run_output}")
  endif()
  if(variant STREQUAL shared)
    run("ldd" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${installed_libdir}" ldd
        "${WORK_DIR}/c_api_${variant}")
    if(NOT run_output MATCHES "libpolyhead\\.so\\.1 => ${installed_libdir}/")
      message(FATAL_ERROR "check_install: c_api_shared does not load the installed libpolyhead.so.1:\n"
                          "${run_output}")
    endif()
  endif()
endforeach()
message(STATUS "check_install: c_api built with `pkg-config --cflags --libs polyhead` (shared) "
               "and `pkg-config --static --cflags --libs polyhead-static` ran")

# libpolyhead.so exports the C API and nothing else, under the SONAME of the C ABI.
set(shared_lib "${installed_libdir}/libpolyhead.so")
if(NOT EXISTS "${shared_lib}")
  message(FATAL_ERROR "check_install: ${shared_lib} was not installed")
endif()
run("nm -D" nm -D --defined-only "${shared_lib}")
string(REGEX MATCHALL "[^\n]+" symbols "${run_output}")
set(foreign "")
set(exported 0)
foreach(line IN LISTS symbols)
  if(line MATCHES " ph_[a-z0-9_]+$")
    math(EXPR exported "${exported} + 1")
  else()
    list(APPEND foreign "${line}")
  endif()
endforeach()
if(foreign OR exported EQUAL 0)
  message(FATAL_ERROR "check_install: libpolyhead.so exports more than ph_* (or nothing): ${foreign}")
endif()
run("readelf -d" readelf -d "${shared_lib}")
if(NOT run_output MATCHES "Library soname: \\[libpolyhead\\.so\\.1\\]")
  message(FATAL_ERROR "check_install: libpolyhead.so's SONAME is not libpolyhead.so.1:\n${run_output}")
endif()
message(STATUS "check_install: libpolyhead.so.1 exports ${exported} ph_* functions and nothing else")

# A decimal number as whole tenths, truncated (CMake's math() has integers only).
function(to_tenths number out)
  if(NOT number MATCHES "^(-?)([0-9]+)(\\.([0-9]))?")
    message(FATAL_ERROR "check_install: '${number}' is not a number")
  endif()
  set(digit "${CMAKE_MATCH_4}")
  if(digit STREQUAL "")
    set(digit 0)
  endif()
  math(EXPR value "${CMAKE_MATCH_2} * 10 + ${digit}")
  if(CMAKE_MATCH_1 STREQUAL "-")
    math(EXPR value "0 - ${value}")
  endif()
  set(${out} ${value} PARENT_SCOPE)
endfunction()

# Camera frames from the installed package: examples/face_camera decodes a JPEG with libjpeg,
# hands the RGB bytes to Plan::set_input_pixels and must find the faces `polyhead run --image`
# finds (OpenCV's decoder and pre-processing path), each box within 1 pixel.
if(EXISTS "${examples_build}/face_camera" AND EXISTS "${POLYHEAD_CLI}")
  set(face_tflite "${DATA_DIR}/face_detection_short_range.tflite")
  if(NOT EXISTS "${face_tflite}")
    message(FATAL_ERROR "check_install: missing ${face_tflite}: run scripts/fetch_data.sh")
  endif()
  run("converting the face detector" "${POLYHEAD_CLI}" convert "${face_tflite}"
      --preset mediapipe-face-detection-short -o "${WORK_DIR}/face.phm")
  set(faces_seen 0)
  foreach(photo sample1.jpg sample5.jpg)
    run("running examples/face_camera" "${examples_build}/face_camera" "${WORK_DIR}/face.phm"
        "${DATA_DIR}/${photo}")
    string(REGEX MATCHALL "box [^\n]+" camera_boxes "${run_output}")
    run("polyhead run --image" "${POLYHEAD_CLI}" run "${WORK_DIR}/face.phm" --image
        "${DATA_DIR}/${photo}" --json)
    string(JSON detections GET "${run_output}" tasks 0 detections)
    string(JSON count LENGTH "${detections}")
    list(LENGTH camera_boxes camera_count)
    if(NOT count EQUAL camera_count OR count EQUAL 0)
      message(FATAL_ERROR "check_install: ${photo}: face_camera found ${camera_count} faces, "
                          "run --image ${count}:\n${camera_boxes}\n${detections}")
    endif()
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      list(GET camera_boxes ${i} line)
      separate_arguments(fields UNIX_COMMAND "${line}")  # box x y w h score s
      foreach(k RANGE 3)
        math(EXPR field "${k} + 1")
        list(GET fields ${field} mine)
        string(JSON theirs GET "${detections}" ${i} box ${k})
        to_tenths("${mine}" a)
        to_tenths("${theirs}" b)
        math(EXPR diff "${a} - ${b}")
        if(diff GREATER 11 OR diff LESS -11)  # 1 pixel, plus the truncation of both to tenths
          message(FATAL_ERROR "check_install: ${photo}: face ${i} coordinate ${k} is ${mine} from "
                              "face_camera, ${theirs} from run --image")
        endif()
      endforeach()
    endforeach()
    math(EXPR faces_seen "${faces_seen} + ${count}")
  endforeach()
  message(STATUS "check_install: face_camera found the ${faces_seen} faces run --image finds")
endif()
