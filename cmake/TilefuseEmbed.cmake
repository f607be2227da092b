# Embeds text files (the CUDA templates) into a generated C++ source as raw
# string literals, so NVRTC compiles from memory with no include-path hunting.
#
# tilefuse_embed_files(OUTPUT <cpp> NAMESPACE <ns> FILES <f>...)
# produces `std::span<const EmbeddedFile> <ns>::embedded_files()`.
function(tilefuse_embed_files)
  cmake_parse_arguments(ARG "" "OUTPUT;BASE_DIR" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ARG_OUTPUT} -DBASE_DIR=${ARG_BASE_DIR}
            "-DFILES=${ARG_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    DEPENDS ${ARG_FILES} ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    COMMENT "Embedding CUDA templates"
    VERBATIM)
endfunction()
