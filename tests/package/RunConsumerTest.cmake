# Driven by ctest (tests/package/CMakeLists.txt): cmake -P RunConsumerTest.cmake
#   -DBUILD_DIR -DSOURCE_DIR -DWORK_DIR -DCONSUMER_SOURCE_DIR -DGENERATOR -DCXX_COMPILER -DC_COMPILER
#   -DCXX_FLAGS -DC_FLAGS -DEXE_LINKER_FLAGS (the tilefuse build's, so that a sanitized package
#   is consumed by a sanitized program)
cmake_minimum_required(VERSION 3.25)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "package test: ${what} failed (exit ${status}):\n${out}\n${err}")
  endif()
  message(STATUS "package test: ${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(staged "${WORK_DIR}/staged")
set(prefix "${WORK_DIR}/moved/prefix")  # where the package is used: not where it was installed

# 1. Install only what a C++ consumer needs (libraries, headers, CMake config).
step("cmake --install (component tilefuse_dev)"
  ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${staged}" --component tilefuse_dev)

# 2. Relocate it: a package that remembered its install prefix breaks here.
file(MAKE_DIRECTORY "${WORK_DIR}/moved")
file(RENAME "${staged}" "${prefix}")

# 3. No path of this checkout or build may appear in an installed text file.
file(GLOB_RECURSE installed_text "${prefix}/*.cmake" "${prefix}/*.hpp" "${prefix}/*.h")
if(NOT installed_text)
  message(FATAL_ERROR "package test: no CMake config or header was installed under ${prefix}")
endif()
foreach(file IN LISTS installed_text)
  file(READ "${file}" text)
  foreach(forbidden IN ITEMS "${BUILD_DIR}" "${SOURCE_DIR}" "${staged}")
    string(FIND "${text}" "${forbidden}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "package test: ${file} contains the path ${forbidden}: the package is not relocatable")
    endif()
  endforeach()
endforeach()
foreach(required IN ITEMS include/tilefuse/tilefuse.hpp include/tilefuse/error.hpp
                          include/tilefuse/types.hpp lib/cmake/tilefuse/tilefuseConfig.cmake
                          lib/cmake/tilefuse/tilefuseConfigVersion.cmake lib/libtilefuse_dsl.a)
  if(NOT EXISTS "${prefix}/${required}")
    message(FATAL_ERROR "package test: ${required} is missing from the installed package")
  endif()
endforeach()

# 4. A consumer that knows only the prefix (and the same compiler).
set(consumer_build "${WORK_DIR}/consumer-build")
step("configure the consumer with find_package(tilefuse)"
  ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_C_FLAGS=${C_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
step("build the consumer" ${CMAKE_COMMAND} --build "${consumer_build}")

# 5. Run it (compiles one kernel with NVRTC into a private cache).
step("run the consumer"
  ${CMAKE_COMMAND} -E env "TILEFUSE_CACHE_DIR=${WORK_DIR}/cache" "${consumer_build}/tilefuse_consumer")
message(STATUS "consumer output:\n${step_output}")
string(FIND "${step_output}" "consumer: ok" ok_at)
if(ok_at EQUAL -1)
  message(FATAL_ERROR "package test: the consumer did not report success")
endif()
