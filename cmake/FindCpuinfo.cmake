# Debian's cpuinfo CMake config points at a wrong library path, so it is not used: find the
# header and the shared library directly.
find_path(CPUINFO_INCLUDE_DIR NAMES cpuinfo.h)
find_library(CPUINFO_LIBRARY NAMES cpuinfo)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Cpuinfo REQUIRED_VARS CPUINFO_LIBRARY CPUINFO_INCLUDE_DIR)
if(Cpuinfo_FOUND AND NOT TARGET Cpuinfo::cpuinfo)
  add_library(Cpuinfo::cpuinfo UNKNOWN IMPORTED)
  set_target_properties(Cpuinfo::cpuinfo PROPERTIES
    IMPORTED_LOCATION "${CPUINFO_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CPUINFO_INCLUDE_DIR}")
endif()
mark_as_advanced(CPUINFO_INCLUDE_DIR CPUINFO_LIBRARY)
