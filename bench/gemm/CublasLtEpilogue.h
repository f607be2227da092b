// The "cublaslt_epilogue" peer: cuBLASLt's own fused epilogues, the closest
// thing the vendor library has to a fused GEMM + activation. Same layout as
// CublasGemm: D (M x N, row-major) = act(A (M x K, row-major) · Wᵀ) with W an
// N x K weight (PyTorch Linear layout), 16-bit in/out, fp32 accumulation.
//
// cuBLASLt fuses only a few activations: RELU and GELU (and their _BIAS
// variants, unused here since no impl of the benchmark adds a bias). Its GELU
// is the tanh approximation (PyTorch checks its _addmm_activation against
// gelu(approximate="tanh")), so it is recorded as activation "gelu_tanh"
// and checked against that formula; there is no cuBLASLt record for the
// erf form "gelu", nor for silu, mish, swiglu or geglu.
#pragma once

#include <cuda.h>

#include <memory>
#include <optional>
#include <string_view>

#include "compiler/Types.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

enum class LtEpilogue { Relu, Gelu };

/// The cuBLASLt epilogue that computes `activation` exactly as written, if any.
std::optional<LtEpilogue> lt_epilogue_for(std::string_view activation);

class CublasLtEpilogue {
 public:
  /// One problem: descriptors and the heuristic's algorithm, chosen once so
  /// that a timed launch is only cublasLtMatmul.
  class Plan;

  static Expected<CublasLtEpilogue> create();
  ~CublasLtEpilogue();
  CublasLtEpilogue(CublasLtEpilogue&&) noexcept;
  CublasLtEpilogue& operator=(CublasLtEpilogue&&) = delete;
  CublasLtEpilogue(const CublasLtEpilogue&) = delete;

  /// Unsupported when cuBLASLt has no algorithm for this problem and epilogue.
  Expected<std::shared_ptr<Plan>> plan(long long m, long long n, long long k, compiler::DType type,
                                       LtEpilogue epilogue) const;
  Expected<void> run(CUstream stream, const Plan& plan, const void* a, const void* w, void* d) const;

 private:
  CublasLtEpilogue() = default;
  void* handle_ = nullptr;  // cublasLtHandle_t (kept out of this header)
  gpu::DeviceBuffer workspace_;
};

}  // namespace tilefuse::bench
