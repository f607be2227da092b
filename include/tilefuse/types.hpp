// tilefuse — the plain value types of the public API (no MLIR, no CUDA):
// element types, precision mode, target architecture, grouped layout, GEMM tile.
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

/// How the rows of a grouped (mixture-of-experts) GEMM belong to its groups
/// (experts). Every group e multiplies its rows of A by its own weights B[e];
/// one launch covers all groups, reading the group sizes from device memory
/// (no host synchronization: the launch can be captured in a CUDA graph).
enum class GroupLayout {
  /// A plain (batched) GEMM.
  None,
  /// A is [T, K] with the tokens sorted by group; MatmulArgs::group_offsets
  /// holds E+1 ascending device int32 row offsets (offsets[0] = 0,
  /// offsets[E] = T = shape.m): group e owns rows [offsets[e], offsets[e+1]).
  /// D (and C, aux, row inputs) are [T, ...] in the same row order. Groups
  /// may be empty; any sizes (not multiples of the tile).
  Contiguous,
  /// A is [E, M_max, K] (shape.m = M_max; MatmulArgs::group_rows holds E
  /// device int32 valid-row counts in [0, M_max]): the decode case. D is
  /// [E, M_max, N]; rows past a group's count are neither read for a result
  /// nor written.
  Masked,
};

const char* to_string(Precision p);   // "precise" | "fast"
const char* to_string(Arch a);        // "sm_80" | ... | "sm_90" | "sm_90a"
const char* to_string(DType d);       // "bf16" | "f16" | "f32"
Expected<Precision> parse_precision(std::string_view text);
Expected<Arch> parse_arch(std::string_view text);
Expected<DType> parse_dtype(std::string_view text);
const char* to_string(GroupLayout g);  // "none" | "contiguous" | "masked"
Expected<GroupLayout> parse_group_layout(std::string_view text);

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
