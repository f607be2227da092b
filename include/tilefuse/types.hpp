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
/// Element types. E4M3 / E5M2 are the FP8 formats (OCP OFP8: e4m3fn, no
/// infinities, max 448; e5m2, IEEE-like, max 57344): tensor-core inputs on
/// sm_89 / sm_90 (E5M2 for B only, MatmulOptions::b_dtype) and an E4M3 output.
enum class DType { BF16, F16, F32, E4M3, E5M2 };
/// How the FP8 inputs of a GEMM are scaled (MatmulOptions::scale, docs/fp8.md).
/// PerTensor: one float each for A and B (MatmulArgs::scale_a / scale_b, null = 1).
/// Block128: the DeepSeek-V3 recipe, A per (row, 128-wide K block), B per
/// (128 x 128) block, applied once per K block in the mainloop.
enum class ScaleMode { PerTensor, Block128 };

const char* to_string(Precision p);   // "precise" | "fast"
const char* to_string(Arch a);        // "sm_80" | ... | "sm_90" | "sm_90a"
const char* to_string(DType d);       // "bf16" | "f16" | "f32" | "e4m3" | "e5m2"
const char* to_string(ScaleMode s);   // "per-tensor" | "block128"
/// True for E4M3 and E5M2.
constexpr bool is_fp8(DType d) { return d == DType::E4M3 || d == DType::E5M2; }
/// Bytes of one element of `d`.
constexpr int dtype_bytes(DType d) { return d == DType::F32 ? 4 : is_fp8(d) ? 1 : 2; }
Expected<Precision> parse_precision(std::string_view text);
Expected<Arch> parse_arch(std::string_view text);
Expected<DType> parse_dtype(std::string_view text);
Expected<ScaleMode> parse_scale_mode(std::string_view text);

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
