// 16-bit floating-point storage on the host, converted with the CUDA
// toolkit's own host functions (cuda_bf16.h / cuda_fp16.h: round to nearest
// even, like the kernels' cvt.rn), so no bit tricks are hand-written here.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "compiler/Types.h"

namespace tilefuse::gpu {

inline std::uint16_t float_to_half_bits(float value, compiler::DType type) {
  std::uint16_t bits;
  if (type == compiler::DType::BF16) {
    const __nv_bfloat16 h = __float2bfloat16_rn(value);
    std::memcpy(&bits, &h, sizeof bits);
  } else {
    const __half h = __float2half_rn(value);
    std::memcpy(&bits, &h, sizeof bits);
  }
  return bits;
}

inline float half_bits_to_float(std::uint16_t bits, compiler::DType type) {
  if (type == compiler::DType::BF16) {
    __nv_bfloat16 h;
    std::memcpy(&h, &bits, sizeof h);
    return __bfloat162float(h);
  }
  __half h;
  std::memcpy(&h, &bits, sizeof h);
  return __half2float(h);
}

/// Bytes per element of `type`.
inline int element_bytes(compiler::DType type) { return type == compiler::DType::F32 ? 4 : 2; }

}  // namespace tilefuse::gpu
