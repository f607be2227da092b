// The kernel cache key, spelled out in one function.
#pragma once

#include <string>
#include <string_view>

#include "runtime/Nvrtc.h"

namespace tilefuse::runtime {

/// Everything that decides which bytes NVRTC produces. A change in any of
/// these must give a different key; nothing else may.
struct CacheKeyInputs {
  std::string_view source;          ///< the full generated CUDA C++
  std::string_view embedded_headers;  ///< every embedded header's name and content
  std::string_view nvrtc_version;   ///< nvrtc_version()
  std::string_view arch;            ///< "sm_80", ...
  std::string_view options;         ///< nvrtc_options(), one per line, plus the kernel name expressions
  std::string_view precision_mode;  ///< "precise" | "fast" (caller-provided)
  std::string_view tilefuse_version;
};

/// XXH3-128 over every input, each length-prefixed so that no two different
/// input tuples hash the same bytes; 32 lowercase hex digits.
std::string cache_key(const CacheKeyInputs& inputs);

/// The key for compiling `source` with this process's NVRTC, embedded
/// headers and tilefuse version.
std::string cache_key(const Source& source, std::string_view precision_mode);

/// This library's version (TILEFUSE_VERSION at build time).
std::string_view tilefuse_version();

}  // namespace tilefuse::runtime
