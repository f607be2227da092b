// See GemmParams.h.
#include "runtime/ops/GemmParams.h"

#include <cstring>

namespace tilefuse::ops {

void pack_kernel_params(const GemmParams& params, std::span<const float> epilogue_values,
                        KernelParamBuffer& out, const OperandVectors& vectors, const Fp8Params* fp8) {
  out.size = kernel_params_bytes(epilogue_values.size(), vectors.rows, vectors.cols, fp8 != nullptr);
  std::memset(out.bytes, 0, out.size);
  std::memcpy(out.bytes, &params, sizeof(GemmParams));
  if (!epilogue_values.empty())
    std::memcpy(out.bytes + kEpilogueParamsOffset, epilogue_values.data(), epilogue_values.size_bytes());
  std::byte* at = out.bytes + kernel_params_bytes(epilogue_values.size());
  if (operand_vectors_bytes(vectors.rows, vectors.cols) != 0) {
    // TfOperandVectors: row pointers, row strides, column pointers, column strides.
    auto put = [&](const void* source, int count, int slots) {
      std::memcpy(at, source, static_cast<std::size_t>(count) * 8);
      at += static_cast<std::size_t>(slots) * 8;
    };
    const int row_slots = std::max(vectors.rows, 1), col_slots = std::max(vectors.cols, 1);
    put(vectors.row.data(), vectors.rows, row_slots);
    put(vectors.row_batch_stride.data(), vectors.rows, row_slots);
    put(vectors.col.data(), vectors.cols, col_slots);
    put(vectors.col_batch_stride.data(), vectors.cols, col_slots);
  }
  // (TfGroupedParams would come here: issue 15.) TfFp8Params last.
  if (fp8) std::memcpy(at, fp8, sizeof(Fp8Params));
}

}  // namespace tilefuse::ops
