# Installs the build into a fresh prefix, checks that only the public headers were installed (none
# of polyhead/runtime, polyhead/kernels, polyhead/schema), then configures, builds and runs
# tests/install/consumer, a separate project that knows Polyhead only through find_package.
# Run by CTest (test `install`):
#   cmake -DBINARY_DIR=<build> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#         -DC_COMPILER=<cc> -DCXX_COMPILER=<c++> [-DBUILD_TYPE=Release] [-DLAUNCHER=ccache]
#         [-DSANITIZE=ON] -P tests/install/check_install.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var BINARY_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER)
  if(NOT ${var})
    message(FATAL_ERROR "check_install: pass -D${var}=...")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs a command; fails the check with its output when it fails.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_install: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

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
               status.h result.h tensor.h)
  if(NOT EXISTS "${prefix}/include/polyhead/${header}")
    message(FATAL_ERROR "check_install: public header polyhead/${header} was not installed")
  endif()
endforeach()
list(LENGTH installed count)
message(STATUS "check_install: ${count} public headers installed, none of runtime/kernels/schema")

# A user's project: find_package(polyhead) from the prefix alone.
set(configure_args
  -S "${SOURCE_DIR}/tests/install/consumer" -B "${consumer_build}" -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DPOLYHEAD_EXPECTED_PREFIX=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_C_COMPILER_LAUNCHER=${LAUNCHER}"
       "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
if(SANITIZE)
  # The installed archives were built with the sanitizers: their runtimes must be linked too.
  set(flags "-fsanitize=address,undefined")
  list(APPEND configure_args "-DCMAKE_C_FLAGS=${flags}" "-DCMAKE_CXX_FLAGS=${flags}"
       "-DCMAKE_EXE_LINKER_FLAGS=${flags}")
endif()
run("configuring the consumer project" "${CMAKE_COMMAND}" ${configure_args})
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
