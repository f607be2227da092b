# Driven by ctest (tests/package/CMakeLists.txt): cmake -P PublicHeadersTest.cmake
#   -DINCLUDE_DIR=<source>/include -DCXX_COMPILER=... -DWORK_DIR=...
#
# The installed API must stand alone: every public header compiles by itself
# with only include/ on the include path, and none of them reaches a file
# outside include/ (a path relative to the header, such as
# "../../compiler/Types.h", would compile in the source tree and break once
# installed; the dependency list catches it).
cmake_minimum_required(VERSION 3.25)

file(GLOB headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/tilefuse/*.hpp")
if(NOT headers)
  message(FATAL_ERROR "public headers test: no header under ${INCLUDE_DIR}/tilefuse")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
get_filename_component(include_root "${INCLUDE_DIR}" REALPATH)

set(failures "")
foreach(header IN LISTS headers)
  string(MAKE_C_IDENTIFIER "${header}" stem)
  set(source "${WORK_DIR}/${stem}.cpp")
  file(WRITE "${source}" "#include <${header}>\n")
  # -MM lists the non-system headers the translation unit reads, which must
  # all be ours; -fsyntax-only is the "compiles alone" half.
  execute_process(
    COMMAND "${CXX_COMPILER}" -std=c++20 -fsyntax-only "-I${INCLUDE_DIR}" "${source}"
    RESULT_VARIABLE status ERROR_VARIABLE errors OUTPUT_VARIABLE out)
  if(NOT status EQUAL 0)
    list(APPEND failures "${header} does not compile alone with only include/ on the path:\n${errors}")
    continue()
  endif()
  execute_process(
    COMMAND "${CXX_COMPILER}" -std=c++20 -MM "-I${INCLUDE_DIR}" "${source}"
    RESULT_VARIABLE status ERROR_VARIABLE errors OUTPUT_VARIABLE deps)
  if(NOT status EQUAL 0)
    list(APPEND failures "${header}: listing its dependencies failed:\n${errors}")
    continue()
  endif()
  string(REPLACE "\\\n" " " deps "${deps}")
  string(REGEX REPLACE "^[^:]*:" "" deps "${deps}")
  separate_arguments(deps UNIX_COMMAND "${deps}")
  set(outside "")
  foreach(dep IN LISTS deps)
    if(dep STREQUAL source)
      continue()
    endif()
    get_filename_component(dep_real "${dep}" REALPATH)
    string(FIND "${dep_real}" "${include_root}/" at)
    if(NOT at EQUAL 0)
      list(APPEND outside "${dep_real}")
    endif()
  endforeach()
  if(outside)
    list(JOIN outside ", " outside)
    list(APPEND failures
         "${header} includes ${outside}, outside ${include_root}: move what it needs into include/tilefuse/")
    continue()
  endif()
  message(STATUS "${header}: compiles alone, includes only include/ (and system headers)")
endforeach()

if(failures)
  list(JOIN failures "\n" text)
  message(FATAL_ERROR "public headers test:\n${text}")
endif()
