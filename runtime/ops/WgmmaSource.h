// The wgmma.mma_async wrapper of the sm90 GEMM, generated for the tile's N.
// One m64nNk16 instruction has one register operand per accumulator (N/2
// per thread), so its inline asm differs for every N: it is written here,
// from one description of the instruction, instead of hand-unrolled per size
// in the template (templates/tilefuse/gemm_sm90.cuh calls it).
#pragma once

#include <string>

namespace tilefuse::ops {

/// The wgmma instruction of one consumer warpgroup's k16 step.
struct WgmmaShape {
  int n = 128;             ///< 8..256, a multiple of 8
  bool bf16 = true;        ///< bf16 (else f16) operands, fp32 accumulators
  bool b_n_major = false;  ///< B stored K x N (row-major): transposed-B descriptor
};

/// "m64n128k16.f32.bf16.bf16"-style opcode suffix of `shape`.
std::string wgmma_opcode(const WgmmaShape& shape);

/// CUDA source defining, in namespace tf::sm90,
///   void wgmma_m64k16(float (&d)[N/2], unsigned long long desc_a, unsigned long long desc_b)
/// that issues d += A·B for a 64 x N x 16 step, A and B from shared memory.
std::string wgmma_wrapper_source(const WgmmaShape& shape);

}  // namespace tilefuse::ops
