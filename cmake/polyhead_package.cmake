# `cpack` in a build directory makes a Debian package of what `cmake --install` installs (the CLI,
# libpolyhead.so, the static archives, headers, CMake package, pkg-config files, LICENSE/NOTICE):
# polyhead_<version>_<arch>.deb, for amd64 from a native build and for arm64/armhf from the cross
# builds (docs/install.md). Included last by the top-level CMakeLists.txt.
# Native builds list their dependencies with dpkg-shlibdeps, which needs `file` and dpkg-dev
# (scripts/install_deps.sh installs both).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME polyhead)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Multi-task inference engine: several task heads on one shared backbone in one pass")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "The Polyhead authors")
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
if(CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps cannot read a foreign architecture's libraries here: the packages the cross
  # build links (readelf -d on bin/polyhead and libpolyhead.so), named as Debian 12 names them.
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${POLYHEAD_CROSS_DEBIAN_ARCH})
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(depends "libxnnpack0, libpthreadpool0, libcpuinfo0, libstdc++6, libgcc-s1, libc6")
  if(POLYHEAD_ONNX)
    string(APPEND depends ", libonnx1, libprotobuf32")
  endif()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${depends}")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)
