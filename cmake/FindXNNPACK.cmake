# Debian's libxnnpack-dev ships neither CMake nor pkg-config files: find the header and library
# directly and expose an imported target.
find_path(XNNPACK_INCLUDE_DIR NAMES xnnpack.h)
find_library(XNNPACK_LIBRARY NAMES XNNPACK xnnpack)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(XNNPACK REQUIRED_VARS XNNPACK_LIBRARY XNNPACK_INCLUDE_DIR)
if(XNNPACK_FOUND AND NOT TARGET XNNPACK::XNNPACK)
  add_library(XNNPACK::XNNPACK UNKNOWN IMPORTED)
  set_target_properties(XNNPACK::XNNPACK PROPERTIES
    IMPORTED_LOCATION "${XNNPACK_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${XNNPACK_INCLUDE_DIR}")
endif()
mark_as_advanced(XNNPACK_INCLUDE_DIR XNNPACK_LIBRARY)
