# Toolchain for the static release binaries (scripts/dist/build, docs/DIST.md).
# The build script passes FRUGAL_DIST_ARCH (x86_64 or aarch64) and
# FRUGAL_DIST_TOOLS (its directory with the compiler wrapper and binutils).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${FRUGAL_DIST_ARCH})
set(CMAKE_C_COMPILER ${FRUGAL_DIST_TOOLS}/${FRUGAL_DIST_ARCH}-frugal-cc)
set(CMAKE_AR ${FRUGAL_DIST_TOOLS}/${FRUGAL_DIST_ARCH}-frugal-ar)
set(CMAKE_RANLIB ${FRUGAL_DIST_TOOLS}/${FRUGAL_DIST_ARCH}-frugal-ranlib)
set(CMAKE_STRIP ${FRUGAL_DIST_TOOLS}/${FRUGAL_DIST_ARCH}-frugal-strip)
# Deterministic archives: zero timestamps, uids and modes.
set(CMAKE_C_ARCHIVE_CREATE "<CMAKE_AR> qcD <TARGET> <LINK_FLAGS> <OBJECTS>")
set(CMAKE_C_ARCHIVE_APPEND "<CMAKE_AR> qD <TARGET> <LINK_FLAGS> <OBJECTS>")
set(CMAKE_C_ARCHIVE_FINISH "<CMAKE_RANLIB> -D <TARGET>")
# Nothing is searched on the host: pkg-config (PKG_CONFIG_LIBDIR, set by the
# build script) names the sysroot's libraries, and the compiler wrapper
# sees only musl's headers and the kernel's.
set(BUILD_SHARED_LIBS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
