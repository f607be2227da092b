// See CublasGemm.h.
#include "CublasGemm.h"

#include <cublas_v2.h>

#include <utility>

#include <fmt/format.h>

namespace tilefuse::bench {
namespace {

Error cublas_error(cublasStatus_t status, const char* what) {
  return make_error(ErrorCode::DriverError,
                    fmt::format("{} failed: {} ({})", what, cublasGetStatusName(status), cublasGetStatusString(status)));
}

}  // namespace

Expected<CublasGemm> CublasGemm::create() {
  cublasHandle_t handle = nullptr;
  if (cublasStatus_t s = cublasCreate(&handle); s != CUBLAS_STATUS_SUCCESS) return cublas_error(s, "cublasCreate");
  CublasGemm gemm;
  gemm.handle_ = handle;
  return gemm;
}

CublasGemm::~CublasGemm() {
  if (handle_) cublasDestroy(static_cast<cublasHandle_t>(handle_));
}

CublasGemm::CublasGemm(CublasGemm&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Expected<void> CublasGemm::run(CUstream stream, const void* a, const void* w, void* d, long long m, long long n,
                               long long k, compiler::DType type) const {
  auto handle = static_cast<cublasHandle_t>(handle_);
  if (cublasStatus_t s = cublasSetStream(handle, stream); s != CUBLAS_STATUS_SUCCESS)
    return cublas_error(s, "cublasSetStream");
  const cudaDataType t = type == compiler::DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  const float alpha = 1.0f, beta = 0.0f;
  // Column-major view: Dᵀ (N x M) = W (N x K, stored as Kx N col-major → op T) · Aᵀ (K x M).
  cublasStatus_t s = cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                  static_cast<int>(k), &alpha, w, t, static_cast<int>(k), a, t, static_cast<int>(k),
                                  &beta, d, t, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS)
    return cublas_error(s, fmt::format("cublasGemmEx({}x{}x{})", m, n, k).c_str());
  return {};
}

}  // namespace tilefuse::bench
