// The cuBLAS baseline: D (M x N, row-major) = A (M x K, row-major) · Wᵀ with
// W an N x K row-major weight (PyTorch Linear layout), 16-bit in and out,
// fp32 accumulation (CUBLAS_COMPUTE_32F), the default algorithm heuristic.
#pragma once

#include <cuda.h>

#include <memory>

#include "compiler/Types.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

class CublasGemm {
 public:
  static Expected<CublasGemm> create();
  ~CublasGemm();
  CublasGemm(CublasGemm&&) noexcept;
  CublasGemm& operator=(CublasGemm&&) = delete;
  CublasGemm(const CublasGemm&) = delete;

  Expected<void> run(CUstream stream, const void* a, const void* w, void* d, long long m, long long n,
                     long long k, compiler::DType type) const;

 private:
  CublasGemm() = default;
  void* handle_ = nullptr;  // cublasHandle_t (kept out of this header)
};

}  // namespace tilefuse::bench
