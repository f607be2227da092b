// See CublasLtFp8.h.
#include "CublasLtFp8.h"

#include <cublasLt.h>

#include <cstdint>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace tilefuse::bench {
namespace {

constexpr std::size_t kWorkspaceBytes = 32u << 20;  // as CublasLtEpilogue (PyTorch's on Hopper)

Error lt_error(cublasStatus_t status, const std::string& what) {
  return make_error(ErrorCode::DriverError,
                    fmt::format("{} failed: {} ({})", what, cublasGetStatusName(status), cublasGetStatusString(status)));
}

#define TF_LT_TRY(call)                                                                      \
  do {                                                                                       \
    if (cublasStatus_t s_ = (call); s_ != CUBLAS_STATUS_SUCCESS) return lt_error(s_, #call); \
  } while (0)

template <typename T>
cublasStatus_t set(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const T& value) {
  return cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof value);
}

/// (its A = our W, its B = our A) scale modes of a scaling.
std::pair<int32_t, int32_t> scale_modes(Fp8Scaling scaling) {
  switch (scaling) {
    case Fp8Scaling::PerTensor:
      return {CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F};
    case Fp8Scaling::RowWise:
      return {CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F, CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F};
    case Fp8Scaling::Block128:
      return {CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F, CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F};
  }
  return {CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F};
}

}  // namespace

class CublasLtFp8::Plan {
 public:
  ~Plan() {
    for (cublasLtMatrixLayout_t layout : {a, b, c, d})
      if (layout) cublasLtMatrixLayoutDestroy(layout);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  LtFp8Operands operands;
};

Expected<CublasLtFp8> CublasLtFp8::create() {
  auto workspace = gpu::DeviceBuffer::allocate(kWorkspaceBytes);
  if (!workspace) return workspace.take_error();
  cublasLtHandle_t handle = nullptr;
  TF_LT_TRY(cublasLtCreate(&handle));
  CublasLtFp8 lt;
  lt.handle_ = handle;
  lt.workspace_ = std::move(*workspace);
  return lt;
}

CublasLtFp8::~CublasLtFp8() {
  if (handle_) cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

CublasLtFp8::CublasLtFp8(CublasLtFp8&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), workspace_(std::move(other.workspace_)) {}

Expected<std::shared_ptr<CublasLtFp8::Plan>> CublasLtFp8::plan(const LtFp8Problem& problem,
                                                               const LtFp8Operands& operands) const {
  const auto [m, n, k] = std::tuple{problem.m, problem.n, problem.k};
  if (problem.fp8_out && (!operands.c || !operands.scale_d))
    return make_error(ErrorCode::InvalidInput, "cuBLASLt FP8 output needs a bf16 C buffer and a scale_d pointer");
  auto p = std::make_shared<Plan>();
  p->operands = operands;
  TF_LT_TRY(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T));
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N));
  const auto [mode_w, mode_a] = scale_modes(problem.scaling);
  if (problem.scaling != Fp8Scaling::PerTensor) {
    TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, mode_w));
    TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, mode_a));
  }
  // Its A is our W (scale_b), its B our A (scale_a).
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, static_cast<const void*>(operands.scale_b)));
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const void*>(operands.scale_a)));
  if (problem.fp8_out) {
    TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, static_cast<const void*>(operands.scale_d)));
    if (operands.amax) TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_AMAX_D_POINTER, static_cast<void*>(operands.amax)));
  }
  const int8_t fast = problem.fast_accum ? 1 : 0;
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, fast));
  const cublasLtEpilogue_t epilogue = problem.gelu ? CUBLASLT_EPILOGUE_GELU : CUBLASLT_EPILOGUE_DEFAULT;
  TF_LT_TRY(set(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_8F_E4M3, k, n, k));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_8F_E4M3, k, m, k));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->c, CUDA_R_16BF, n, m, n));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->d, problem.fp8_out ? CUDA_R_8F_E4M3 : CUDA_R_16BF, n, m, n));

  cublasLtMatmulPreference_t preference = nullptr;
  TF_LT_TRY(cublasLtMatmulPreferenceCreate(&preference));
  const std::size_t workspace_bytes = workspace_.bytes();
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &workspace_bytes, sizeof workspace_bytes);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasLtMatmulAlgoGetHeuristic(static_cast<cublasLtHandle_t>(handle_), p->desc, p->a, p->b, p->c, p->d,
                                       preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  const std::string what = fmt::format("{}x{}x{} e4m3, {} scaling, {} out{}", m, n, k, to_string(problem.scaling),
                                       problem.fp8_out ? "e4m3" : "bf16", problem.gelu ? ", GELU epilogue" : "");
  // cuBLASLt answers NOT_SUPPORTED (or no algorithm) for a combination it lacks, e.g.
  // block scaling before 12.9 or on another architecture: a row that is not run.
  if (s == CUBLAS_STATUS_NOT_SUPPORTED || (s == CUBLAS_STATUS_SUCCESS && found == 0))
    return make_error(ErrorCode::Unsupported, fmt::format("cuBLASLt has no algorithm for {}", what));
  if (s != CUBLAS_STATUS_SUCCESS) return lt_error(s, fmt::format("cublasLtMatmulAlgoGetHeuristic ({})", what));
  p->algo = result.algo;
  return p;
}

Expected<void> CublasLtFp8::run(CUstream stream, const Plan& plan) const {
  const float alpha = 1.0f, beta = 0.0f;
  const LtFp8Operands& o = plan.operands;
  // Without an FP8 D, C is D (same type; beta = 0 so it is never read).
  void* c = o.c ? o.c : o.d;
  TF_LT_TRY(cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), plan.desc, &alpha, o.w, plan.a, o.a, plan.b,
                           &beta, c, plan.c, o.d, plan.d, &plan.algo, workspace_.get(), workspace_.bytes(), stream));
  return {};
}

}  // namespace tilefuse::bench
