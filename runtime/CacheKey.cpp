#include "runtime/CacheKey.h"

// XXH3_state_t on the stack: no allocation that could fail.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstdint>

#include <fmt/format.h>

#include "runtime/EmbeddedFiles.h"

#ifndef TILEFUSE_VERSION
#error "TILEFUSE_VERSION must be defined by the build (runtime/CMakeLists.txt)"
#endif

namespace tilefuse::runtime {
namespace {

void add_field(XXH3_state_t* state, std::string_view field) {
  const uint64_t size = field.size();
  XXH3_128bits_update(state, &size, sizeof(size));
  XXH3_128bits_update(state, field.data(), field.size());
}

// All embedded headers, computed once: they are fixed at build time.
const std::string& embedded_headers_text() {
  static const std::string text = [] {
    std::string out;
    for (const auto& f : embedded_files()) {
      out += fmt::format("{}:{}\n", f.name, f.content.size());
      out += f.content;
    }
    return out;
  }();
  return text;
}

}  // namespace

std::string_view tilefuse_version() { return TILEFUSE_VERSION; }

std::string cache_key(const CacheKeyInputs& in) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_128bits_reset(&state);
  for (std::string_view field : {in.source, in.embedded_headers, in.nvrtc_version, in.arch,
                                 in.options, in.precision_mode, in.tilefuse_version})
    add_field(&state, field);
  const XXH128_hash_t h = XXH3_128bits_digest(&state);
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

std::string cache_key(const Source& source, std::string_view precision_mode) {
  static const std::string nvrtc = nvrtc_version();
  std::string options;
  for (const auto& o : nvrtc_options(source.options)) options += o + "\n";
  for (const auto& k : source.kernel_names) options += "kernel:" + k + "\n";
  return cache_key(CacheKeyInputs{
      .source = source.code,
      .embedded_headers = embedded_headers_text(),
      .nvrtc_version = nvrtc,
      .arch = source.options.arch,
      .options = options,
      .precision_mode = precision_mode,
      .tilefuse_version = tilefuse_version(),
  });
}

}  // namespace tilefuse::runtime
