// Names and parsing of the public value types (include/tilefuse/types.hpp).
#include "tilefuse/types.hpp"

#include <fmt/format.h>

namespace tilefuse {

const char* to_string(Precision p) { return p == Precision::Fast ? "fast" : "precise"; }

const char* to_string(Arch a) {
  switch (a) {
    case Arch::Sm80: return "sm_80";
    case Arch::Sm86: return "sm_86";
    case Arch::Sm89: return "sm_89";
    case Arch::Sm90: return "sm_90";
    case Arch::Sm90a: return "sm_90a";
  }
  return "?";
}

const char* to_string(DType d) {
  switch (d) {
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
    case DType::F32: return "f32";
    case DType::E4M3: return "e4m3";
    case DType::E5M2: return "e5m2";
  }
  return "?";
}

const char* to_string(ScaleMode s) { return s == ScaleMode::Block128 ? "block128" : "per-tensor"; }

Expected<Precision> parse_precision(std::string_view text) {
  if (text == "precise") return Precision::Precise;
  if (text == "fast") return Precision::Fast;
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("unknown precision mode '{}'; expected 'precise' or 'fast'", text));
}

Expected<Arch> parse_arch(std::string_view text) {
  for (Arch a : kAllArchs)
    if (text == to_string(a)) return a;
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("unknown architecture '{}'; expected sm_80, sm_86, sm_89, sm_90 or sm_90a", text));
}

Expected<DType> parse_dtype(std::string_view text) {
  for (DType d : {DType::BF16, DType::F16, DType::F32, DType::E4M3, DType::E5M2})
    if (text == to_string(d)) return d;
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("unknown dtype '{}'; expected bf16, f16, f32, e4m3 or e5m2", text));
}

Expected<ScaleMode> parse_scale_mode(std::string_view text) {
  for (ScaleMode s : {ScaleMode::PerTensor, ScaleMode::Block128})
    if (text == to_string(s)) return s;
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("unknown scale mode '{}'; expected per-tensor or block128", text));
}

std::string to_string(const TileConfig& t) {
  return fmt::format("{}x{}x{}_w{}x{}_s{}_v{}_g{}", t.block_m, t.block_n, t.block_k, t.warp_m,
                     t.warp_n, t.stages, t.vector_width, t.group_m);
}

}  // namespace tilefuse
