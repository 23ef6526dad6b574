# Debian's libstb-dev: header-only, no CMake or pkg-config package of its own.
find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Stb REQUIRED_VARS STB_INCLUDE_DIR)
mark_as_advanced(STB_INCLUDE_DIR)
