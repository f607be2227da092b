// The documented limits of cuTensorMapEncodeTiled (CUDA 13 driver API,
// "Tensor Map Object Management"), as one function: the fake driver refuses
// an encode that breaks one (CUDA_ERROR_INVALID_VALUE, like the real driver)
// and the fake-driver tests assert every recorded encode against it.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

namespace tilefuse::fakecuda {

struct TensorMapArgs {
  const void* map = nullptr;  ///< where the map is written (64-byte aligned)
  int data_type = 0;
  unsigned rank = 0;
  const void* global_address = nullptr;
  const cuuint64_t* dims = nullptr;
  const cuuint64_t* strides = nullptr;
  const cuuint32_t* box = nullptr;
  const cuuint32_t* element_strides = nullptr;
  int interleave = 0, swizzle = 0, l2_promotion = 0, oob_fill = 0;
};

inline unsigned tensor_map_element_bytes(int data_type) {
  switch (data_type) {
    case CU_TENSOR_MAP_DATA_TYPE_UINT8: return 1;
    case CU_TENSOR_MAP_DATA_TYPE_UINT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16: return 2;
    case CU_TENSOR_MAP_DATA_TYPE_UINT32:
    case CU_TENSOR_MAP_DATA_TYPE_INT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ: return 4;
    case CU_TENSOR_MAP_DATA_TYPE_INT64:
    case CU_TENSOR_MAP_DATA_TYPE_UINT64:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT64: return 8;
    default: return 0;  // sub-byte types: not used by tilefuse
  }
}

/// The first documented limit `a` breaks, or "" when it keeps them all.
inline std::string tensor_map_violation(const TensorMapArgs& a) {
  using std::to_string;
  const unsigned element = tensor_map_element_bytes(a.data_type);
  if (!a.map || reinterpret_cast<std::uintptr_t>(a.map) % 64 != 0) return "tensorMap is not 64-byte aligned";
  if (element == 0) return "unsupported tensorDataType " + to_string(a.data_type);
  if (a.rank < 1 || a.rank > 5) return "tensorRank " + to_string(a.rank) + " is not in 1..5";
  if (a.interleave != CU_TENSOR_MAP_INTERLEAVE_NONE && a.rank < 3)
    return "an interleaved layout needs tensorRank >= 3";
  const unsigned address_align = a.interleave == CU_TENSOR_MAP_INTERLEAVE_32B ? 32 : 16;
  if (reinterpret_cast<std::uintptr_t>(a.global_address) % address_align != 0)
    return "globalAddress is not " + to_string(address_align) + "-byte aligned";
  if (!a.dims || !a.box || !a.element_strides || (a.rank > 1 && !a.strides)) return "a null array argument";
  for (unsigned i = 0; i < a.rank; ++i) {
    if (a.dims[i] == 0 || a.dims[i] > (1ull << 32))
      return "globalDim[" + to_string(i) + "] = " + to_string(a.dims[i]) + " is not in 1..2^32";
    if (a.box[i] == 0 || a.box[i] > 256)
      return "boxDim[" + to_string(i) + "] = " + to_string(a.box[i]) + " is not in 1..256";
    if (a.element_strides[i] == 0 || a.element_strides[i] > 8)
      return "elementStrides[" + to_string(i) + "] = " + to_string(a.element_strides[i]) + " is not in 1..8";
  }
  for (unsigned i = 0; i + 1 < a.rank; ++i) {
    if (a.strides[i] % address_align != 0)
      return "globalStrides[" + to_string(i) + "] = " + to_string(a.strides[i]) + " is not a multiple of " +
             to_string(address_align);
    if (a.strides[i] >= (1ull << 40))
      return "globalStrides[" + to_string(i) + "] = " + to_string(a.strides[i]) + " is not below 2^40";
  }
  const unsigned long long inner_bytes = static_cast<unsigned long long>(a.box[0]) * element;
  if (a.interleave == CU_TENSOR_MAP_INTERLEAVE_NONE) {
    if (inner_bytes % 16 != 0)
      return "boxDim[0] x element size = " + to_string(inner_bytes) + " bytes is not a multiple of 16";
    const unsigned span = a.swizzle == CU_TENSOR_MAP_SWIZZLE_32B    ? 32
                          : a.swizzle == CU_TENSOR_MAP_SWIZZLE_64B  ? 64
                          : a.swizzle == CU_TENSOR_MAP_SWIZZLE_128B ? 128
                                                                    : 0;
    if (span && inner_bytes > span)
      return "boxDim[0] x element size = " + to_string(inner_bytes) + " bytes exceeds the " + to_string(span) +
             "-byte swizzle span";
  }
  if (a.swizzle < CU_TENSOR_MAP_SWIZZLE_NONE || a.swizzle > CU_TENSOR_MAP_SWIZZLE_128B)
    return "swizzle " + to_string(a.swizzle) + " is not one tilefuse expects (NONE, 32B, 64B, 128B)";
  if (a.l2_promotion < CU_TENSOR_MAP_L2_PROMOTION_NONE || a.l2_promotion > CU_TENSOR_MAP_L2_PROMOTION_L2_256B)
    return "l2Promotion " + to_string(a.l2_promotion) + " is not a CUtensorMapL2promotion";
  if (a.oob_fill != CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE && a.oob_fill != CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA)
    return "oobFill " + to_string(a.oob_fill) + " is not a CUtensorMapFloatOOBfill";
  if (a.oob_fill == CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA &&
      a.data_type <= CU_TENSOR_MAP_DATA_TYPE_INT64)
    return "oobFill NAN_REQUEST_ZERO_FMA needs a floating-point tensorDataType";
  return {};
}

}  // namespace tilefuse::fakecuda
