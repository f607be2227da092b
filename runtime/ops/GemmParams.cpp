// See GemmParams.h.
#include "runtime/ops/GemmParams.h"

#include <cstring>

namespace tilefuse::ops {

void pack_kernel_params(const GemmParams& params, std::span<const float> epilogue_values,
                        KernelParamBuffer& out) {
  out.size = kernel_params_bytes(epilogue_values.size());
  std::memset(out.bytes, 0, out.size);
  std::memcpy(out.bytes, &params, sizeof(GemmParams));
  if (!epilogue_values.empty())
    std::memcpy(out.bytes + kEpilogueParamsOffset, epilogue_values.data(), epilogue_values.size_bytes());
}

}  // namespace tilefuse::ops
