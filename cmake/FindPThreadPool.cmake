# Debian's libpthreadpool-dev ships no CMake config: find header and library directly.
find_path(PTHREADPOOL_INCLUDE_DIR NAMES pthreadpool.h)
find_library(PTHREADPOOL_LIBRARY NAMES pthreadpool)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(PThreadPool REQUIRED_VARS PTHREADPOOL_LIBRARY PTHREADPOOL_INCLUDE_DIR)
if(PThreadPool_FOUND AND NOT TARGET PThreadPool::pthreadpool)
  find_package(Threads REQUIRED)
  add_library(PThreadPool::pthreadpool UNKNOWN IMPORTED)
  set_target_properties(PThreadPool::pthreadpool PROPERTIES
    IMPORTED_LOCATION "${PTHREADPOOL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PTHREADPOOL_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(PTHREADPOOL_INCLUDE_DIR PTHREADPOOL_LIBRARY)
