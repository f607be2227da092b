// CUDA sources of the backward kernels (a KernelSpec compiled with
// `gradient`, see compiler/Pipeline.h):
//   - the backward GEMM  dZ = (alpha · dY·Wᵀ) ⊙ act'(z), z read from the
//     forward's aux tensor (TfGemmParams::aux): A = dY (M x N_out), B = W
//     read as Wᵀ (b_col_major for a K x N_out forward weight), D = dZ;
//     for a gated activation dH = alpha·A·B (M x N) with gate, up read from
//     aux = [gate | up] (M x 2N, the gated forward's aux) and D = [dgate | dup]
//     (M x 2N);
//   - the element-wise backward: dx = dy ⊙ act'(x), and for a gated
//     activation dgate, dup from dy, gate, up in one pass.
// The backward GEMM uses the mma.sync driver (gemm_sm80.cuh) on every
// architecture, sm_90a included: its epilogue is the one that reads z.
#pragma once

#include <string>

#include "compiler/Pipeline.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

inline constexpr const char* kBackwardGemmKernelName = "tf_gemm";
inline constexpr const char* kElementwiseBackwardKernelName = "tf_elementwise_backward";
inline constexpr const char* kElementwiseGatedBackwardKernelName = "tf_elementwise_gated_backward";

/// `spec` with what a backward GEMM needs: gradient on, no bias, residual or
/// aux, and (unless one is forced) the mma.sync target's default tile for
/// `shape` (M, N, K of the backward GEMM).
compiler::KernelSpec backward_gemm_spec(compiler::KernelSpec spec, long long m, long long n, long long k);

/// The backward GEMM source for `spec` (from backward_gemm_spec) and its
/// compiled epilogue (single or gated). InvalidInput for an epilogue that is
/// not a backward one.
Expected<std::string> backward_gemm_kernel_source(const compiler::KernelSpec& spec,
                                                  const compiler::CompiledEpilogue& epilogue);

/// The element-wise backward source (tf_elementwise_backward, or for a gated
/// activation tf_elementwise_gated_backward).
Expected<std::string> backward_elementwise_kernel_source(const compiler::CompiledEpilogue& epilogue);

}  // namespace tilefuse::ops
