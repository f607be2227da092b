// The wgmma.mma_async wrapper of the sm90 GEMM, generated for the tile's N.
// One m64nNk16 (FP8: m64nNk32) instruction has one register operand per
// accumulator (N/2 per thread), so its inline asm differs for every N: it is
// written here, from one description of the instruction, instead of
// hand-unrolled per size in the template (templates/tilefuse/gemm_sm90.cuh
// calls it).
#pragma once

#include <string>

namespace tilefuse::ops {

/// The wgmma instruction of one consumer warpgroup's step over 32 bytes of K.
struct WgmmaShape {
  int n = 128;             ///< 8..256, a multiple of 8
  bool bf16 = true;        ///< bf16 (else f16) operands, fp32 accumulators
  bool b_n_major = false;  ///< B stored K x N (row-major): transposed-B descriptor
  /// FP8 operands (k32, both K-major: no transpose operands): A e4m3, B
  /// e4m3 or e5m2 (`b_e5m2`); `bf16` and `b_n_major` are then unused.
  bool fp8 = false;
  bool b_e5m2 = false;
};

/// "m64n128k16.f32.bf16.bf16" / "m64n128k32.f32.e4m3.e5m2"-style opcode suffix of `shape`.
std::string wgmma_opcode(const WgmmaShape& shape);

/// CUDA source defining, in namespace tf::sm90,
///   void wgmma_m64k16(float (&d)[N/2], unsigned long long desc_a, unsigned long long desc_b)
/// that issues d += A·B for a 64 x N x 16 step, A and B from shared memory;
/// FP8:
///   void wgmma_m64k32(float (&d)[N/2], unsigned long long desc_a, unsigned long long desc_b,
///                     int accumulate)
/// that issues d = A·B + (accumulate ? d : 0) for a 64 x N x 32 step.
std::string wgmma_wrapper_source(const WgmmaShape& shape);

}  // namespace tilefuse::ops
