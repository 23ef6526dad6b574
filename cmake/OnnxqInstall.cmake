# Installs the CLI, the headers and a CMake package: find_package(onnxq) gives onnxq::core.
include(CMakePackageConfigHelpers)

install(TARGETS onnxq_core EXPORT onnxqTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS onnxq RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/onnxq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/onnxq/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnxq)

set(ONNXQ_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/onnxq)
install(EXPORT onnxqTargets NAMESPACE onnxq:: DESTINATION ${ONNXQ_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/onnxqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/onnxqConfig.cmake INSTALL_DESTINATION ${ONNXQ_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/onnxqConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/onnxqConfig.cmake ${PROJECT_BINARY_DIR}/onnxqConfigVersion.cmake
  DESTINATION ${ONNXQ_CMAKE_DIR})
