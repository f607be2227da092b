// CUDA template files embedded into the library at build time
// (cmake/EmbedFilesScript.cmake), handed to NVRTC as in-memory headers.
#pragma once

#include <span>
#include <string_view>

namespace tilefuse::runtime {

struct EmbeddedFile {
  std::string_view name;     ///< include name, e.g. "tilefuse/epilogue_support.cuh"
  std::string_view content;
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace tilefuse::runtime
