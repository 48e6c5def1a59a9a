# Generates and installs ${libdir}/pkgconfig/polyhead.pc (from polyhead.pc.in) for the shared C
# library libpolyhead.so and polyhead-static.pc (polyhead-static.pc.in) for the static archives;
# included by the top-level CMakeLists.txt after GNUInstallDirs. Its paths are relative
# to the file, so `cmake --install --prefix` may choose the prefix. Debian's XNNPACK and
# pthreadpool ship no .pc file, so they are plain -l flags; cpuinfo is required by name where its
# .pc is found (Debian's libcpuinfo-dev has one).
function(polyhead_pc_path_of dir out)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
polyhead_pc_path_of("${CMAKE_INSTALL_LIBDIR}" POLYHEAD_PC_LIBDIR)
polyhead_pc_path_of("${CMAKE_INSTALL_INCLUDEDIR}" POLYHEAD_PC_INCLUDEDIR)
# From <prefix>/<libdir>/pkgconfig back to <prefix>, e.g. "../.." (any root stands in for prefix).
file(RELATIVE_PATH POLYHEAD_PC_PREFIX_FROM_PCFILEDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" POLYHEAD_PC_PREFIX_FROM_PCFILEDIR "${POLYHEAD_PC_PREFIX_FROM_PCFILEDIR}")
set(POLYHEAD_PC_REQUIRES_PRIVATE "")
set(POLYHEAD_PC_LIBS_PRIVATE "-lXNNPACK -lpthreadpool")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(POLYHEAD_PC_CPUINFO QUIET libcpuinfo)
endif()
if(POLYHEAD_PC_CPUINFO_FOUND)
  set(POLYHEAD_PC_REQUIRES_PRIVATE "libcpuinfo")
else()
  string(APPEND POLYHEAD_PC_LIBS_PRIVATE " -lcpuinfo")
endif()
# The archives are C++: a C program linking them also needs the C++ runtime and libm.
string(APPEND POLYHEAD_PC_LIBS_PRIVATE " -pthread -lstdc++ -lm")
foreach(pc polyhead polyhead-static)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
