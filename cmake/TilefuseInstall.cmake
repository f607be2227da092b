# `cmake --install` rules: a relocatable package that a consumer finds with
# find_package(tilefuse) and links as tilefuse::tilefuse.
#
# What is installed (component tilefuse_dev unless noted):
#   include/tilefuse/*.hpp                 the public API (self-contained: it includes
#                                          nothing outside include/, tests/package checks)
#   lib/libtilefuse_{api,tune,ops,runtime,compiler,dsl}.a
#   lib/cmake/tilefuse/                    config, version, exported targets
#   bin/tilefuse                           the CLI (component tilefuse_tools)
#
# MLIR/LLVM are not copied: the static archives tilefuse needs are ~120 MB
# (MLIR) + ~330 MB (LLVM) on Debian's llvm-19 packages, and the consumer's
# link only pulls what it uses anyway. The installed config finds them with
# find_package(MLIR) on the consumer's machine (libmlir-19-dev, llvm-19-dev),
# by name, so no path of this build leaks into the package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TILEFUSE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tilefuse)

# Every static library of this project that tilefuse::tilefuse reaches through
# its link interface, found by walking it (a library added later is installed
# without editing this file; a missing one would fail install(EXPORT)).
function(tilefuse_collect_static_libraries target out_var)
  set(found ${${out_var}})
  get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT links)
    set(links "")
  endif()
  foreach(item IN LISTS links)
    if(item MATCHES "^\\$<LINK_ONLY:(.+)>$")
      set(item "${CMAKE_MATCH_1}")
    endif()
    if(NOT TARGET "${item}" OR item IN_LIST found)
      continue()
    endif()
    get_target_property(type ${item} TYPE)
    get_target_property(imported ${item} IMPORTED)
    if(type STREQUAL "STATIC_LIBRARY" AND NOT imported)
      list(APPEND found ${item})
      tilefuse_collect_static_libraries(${item} found)
    endif()
  endforeach()
  set(${out_var} ${found} PARENT_SCOPE)
endfunction()
set(TILEFUSE_INSTALL_LIBRARIES "")
tilefuse_collect_static_libraries(tilefuse TILEFUSE_INSTALL_LIBRARIES)
install(TARGETS tilefuse ${TILEFUSE_INSTALL_LIBRARIES}
  EXPORT tilefuseTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT tilefuse_dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

file(GLOB TILEFUSE_PUBLIC_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/tilefuse/*.hpp)
install(FILES ${TILEFUSE_PUBLIC_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tilefuse COMPONENT tilefuse_dev)

install(EXPORT tilefuseTargets NAMESPACE tilefuse::
  DESTINATION ${TILEFUSE_INSTALL_CMAKEDIR} COMPONENT tilefuse_dev)

# The config rebuilds the MLIR/LLVM link group from names: archive names
# (only those this build found) and LLVM library target names.
set(TILEFUSE_INSTALL_MLIR_ARCHIVES "")
foreach(path IN LISTS TILEFUSE_MLIR_ARCHIVE_PATHS)
  get_filename_component(name "${path}" NAME)
  list(APPEND TILEFUSE_INSTALL_MLIR_ARCHIVES "${name}")
endforeach()
set(TILEFUSE_INSTALL_LLVM_LIBS "${TILEFUSE_LLVM_STATIC_LIBS}")
set(TILEFUSE_INSTALL_LLVM_MAJOR "${LLVM_VERSION_MAJOR}")
set(TILEFUSE_INSTALL_LLVM_VERSION "${LLVM_PACKAGE_VERSION}")

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tilefuseConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/tilefuseConfig.cmake
  INSTALL_DESTINATION ${TILEFUSE_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/tilefuseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/tilefuseConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/tilefuseConfigVersion.cmake
  DESTINATION ${TILEFUSE_INSTALL_CMAKEDIR} COMPONENT tilefuse_dev)

if(TARGET tilefuse_cli)
  install(TARGETS tilefuse_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tilefuse_tools)
endif()
