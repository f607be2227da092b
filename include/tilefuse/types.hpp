// tilefuse — the plain value types of the public API (no MLIR, no CUDA):
// element types, precision mode, target architecture, GEMM tile.
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

#include "tilefuse/error.hpp"

namespace tilefuse {

enum class Precision { Precise, Fast };
/// Sm90: Hopper with the mma.sync kernel (NVRTC sm_90, like sm_80's);
/// Sm90a: Hopper with the TMA/wgmma kernel (NVRTC sm_90a, runs only on 9.0).
enum class Arch { Sm80, Sm86, Sm89, Sm90, Sm90a };
/// Every Arch, in enum order (tables indexed by Arch have kArchCount entries).
inline constexpr Arch kAllArchs[] = {Arch::Sm80, Arch::Sm86, Arch::Sm89, Arch::Sm90, Arch::Sm90a};
inline constexpr std::size_t kArchCount = std::size(kAllArchs);
enum class DType { BF16, F16, F32 };

const char* to_string(Precision p);   // "precise" | "fast"
const char* to_string(Arch a);        // "sm_80" | ... | "sm_90" | "sm_90a"
const char* to_string(DType d);       // "bf16" | "f16" | "f32"
Expected<Precision> parse_precision(std::string_view text);
Expected<Arch> parse_arch(std::string_view text);
Expected<DType> parse_dtype(std::string_view text);

/// Mirrors #tilefuse.tile<...> (see compiler/Dialect/TilefuseDialect.td).
struct TileConfig {
  int block_m = 128, block_n = 128, block_k = 32;
  int warp_m = 64, warp_n = 64;
  int stages = 3;
  int vector_width = 2;
  int group_m = 8;
  bool operator==(const TileConfig&) const = default;
  int warps() const { return (block_m / warp_m) * (block_n / warp_n); }
};
std::string to_string(const TileConfig& t);  // "128x128x32_w64x64_s3_v2_g8"

}  // namespace tilefuse
