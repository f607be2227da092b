// See CublasLtEpilogue.h.
#include "CublasLtEpilogue.h"

#include <cublasLt.h>

#include <utility>

#include <fmt/format.h>

namespace tilefuse::bench {
namespace {

// What cuBLASLt may use for split-K and the like; 32 MiB is what PyTorch
// gives it on Hopper.
constexpr std::size_t kWorkspaceBytes = 32u << 20;

Error lt_error(cublasStatus_t status, const std::string& what) {
  return make_error(ErrorCode::DriverError,
                    fmt::format("{} failed: {} ({})", what, cublasGetStatusName(status), cublasGetStatusString(status)));
}

#define TF_LT_TRY(call)                                                     \
  do {                                                                      \
    if (cublasStatus_t s_ = (call); s_ != CUBLAS_STATUS_SUCCESS) return lt_error(s_, #call); \
  } while (0)

}  // namespace

std::optional<LtEpilogue> lt_epilogue_for(std::string_view activation) {
  if (activation == "relu" || activation == "relu(x)") return LtEpilogue::Relu;
  if (activation == "gelu_tanh" || activation == "gelu_tanh(x)") return LtEpilogue::Gelu;
  return std::nullopt;
}

class CublasLtEpilogue::Plan {
 public:
  ~Plan() {
    for (cublasLtMatrixLayout_t layout : {a, b, d})
      if (layout) cublasLtMatrixLayoutDestroy(layout);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

Expected<CublasLtEpilogue> CublasLtEpilogue::create() {
  auto workspace = gpu::DeviceBuffer::allocate(kWorkspaceBytes);
  if (!workspace) return workspace.take_error();
  cublasLtHandle_t handle = nullptr;
  TF_LT_TRY(cublasLtCreate(&handle));
  CublasLtEpilogue lt;
  lt.handle_ = handle;
  lt.workspace_ = std::move(*workspace);
  return lt;
}

CublasLtEpilogue::~CublasLtEpilogue() {
  if (handle_) cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

CublasLtEpilogue::CublasLtEpilogue(CublasLtEpilogue&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), workspace_(std::move(other.workspace_)) {}

Expected<std::shared_ptr<CublasLtEpilogue::Plan>> CublasLtEpilogue::plan(long long m, long long n, long long k,
                                                                         compiler::DType type,
                                                                         LtEpilogue epilogue) const {
  auto p = std::make_shared<Plan>();
  const cudaDataType t = type == compiler::DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  // Column-major view, as in CublasGemm: Dᵀ (N x M) = op_T(W stored K x N) · Aᵀ (K x M).
  TF_LT_TRY(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
  TF_LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose));
  TF_LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none));
  const cublasLtEpilogue_t lt_epilogue = epilogue == LtEpilogue::Relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_GELU;
  TF_LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &lt_epilogue, sizeof lt_epilogue));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->a, t, k, n, k));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->b, t, k, m, k));
  TF_LT_TRY(cublasLtMatrixLayoutCreate(&p->d, t, n, m, n));

  cublasLtMatmulPreference_t preference = nullptr;
  TF_LT_TRY(cublasLtMatmulPreferenceCreate(&preference));
  const std::size_t workspace_bytes = workspace_.bytes();
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &workspace_bytes, sizeof workspace_bytes);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasLtMatmulAlgoGetHeuristic(static_cast<cublasLtHandle_t>(handle_), p->desc, p->a, p->b, p->d, p->d,
                                       preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (s != CUBLAS_STATUS_SUCCESS) return lt_error(s, "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("cuBLASLt has no algorithm for {}x{}x{} with the {} epilogue", m, n, k,
                                  epilogue == LtEpilogue::Relu ? "RELU" : "GELU"));
  p->algo = result.algo;
  return p;
}

Expected<void> CublasLtEpilogue::run(CUstream stream, const Plan& plan, const void* a, const void* w, void* d) const {
  const float alpha = 1.0f, beta = 0.0f;
  TF_LT_TRY(cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), plan.desc, &alpha, w, plan.a, a, plan.b, &beta, d,
                           plan.d, d, plan.d, &plan.algo, workspace_.get(), workspace_.bytes(), stream));
  return {};
}

}  // namespace tilefuse::bench
