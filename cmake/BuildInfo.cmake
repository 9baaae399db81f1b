# Build information for `frugal version` (src/cli/cmd_version.c): the git
# commit, the build date and, for the release binaries (make dist), the
# Debian source packages and libc they were built from. The header is
# rewritten on every build, but only touched when its text changes, so only
# cmd_version.c recompiles after a commit.
set(FRUGAL_DIST_SOURCES "" CACHE STRING
  "Source packages of a release build, as name=version,name=version (scripts/dist/build)")
set(FRUGAL_DIST_LIBC "" CACHE STRING "The libc of a release build and its version")
set(FRUGAL_BUILD_INFO_H ${CMAKE_BINARY_DIR}/generated/frugal_build_info.h)
add_custom_target(frugal_build_info
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${FRUGAL_BUILD_INFO_H}
    "-DDIST_SOURCES=${FRUGAL_DIST_SOURCES}" "-DDIST_LIBC=${FRUGAL_DIST_LIBC}"
    -P ${CMAKE_SOURCE_DIR}/cmake/write-build-info.cmake
  BYPRODUCTS ${FRUGAL_BUILD_INFO_H}
  COMMENT "frugal build info"
  VERBATIM)
add_dependencies(frugal frugal_build_info)
target_include_directories(frugal PRIVATE ${CMAKE_BINARY_DIR}/generated)
