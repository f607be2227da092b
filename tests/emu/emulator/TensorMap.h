// The emulated CUtensorMap: what cuTensorMapEncodeTiled was given, kept in
// the map's 128 opaque bytes, so that the kernel under emulation receives
// the map the production host code (runtime/ops/Sm90Params.cpp) encoded,
// through the same DriverApi entry point (fake_encode_tiled stands in for
// the driver's). cp.async.bulk.tensor then reads a box from it
// (read_tensor_box), following the CUDA driver API's description of tiled
// tensor maps:
//   - element (x0..x4) of the tensor lies at address + x0 * element_size +
//     sum_{i>=1} x_i * strides[i-1];
//   - a box at coordinates (c0..c4) covers, per dimension i,
//     ceil(box[i] / element_strides[i]) elements c_i, c_i + e_i, ...; they
//     are packed densely in shared memory, dimension 0 innermost;
//   - elements outside [0, dims[i]) in any dimension are filled: zeros
//     (FLOAT_OOB_FILL_NONE) or NaN (NAN_REQUEST_ZERO_FMA); the full box's
//     bytes count toward the mbarrier transaction either way;
//   - swizzle 32B/64B/128B: within each 256/512/1024-byte span of shared
//     memory, the 16-byte chunk index (address bits 4..) is XORed with the
//     128-byte row index (address bits 7..), 1, 2 or 3 bits of it.
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "emulator/AccessCounters.h"

namespace emu {

/// The arguments of one cuTensorMapEncodeTiled call.
struct TensorMapArguments {
  CUtensorMapDataType type = CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  unsigned rank = 0;
  const void* address = nullptr;
  std::array<std::uint64_t, 5> dims{1, 1, 1, 1, 1};
  std::array<std::uint64_t, 4> strides{};  ///< bytes, dimensions 1..rank-1
  std::array<std::uint32_t, 5> box{1, 1, 1, 1, 1};
  std::array<std::uint32_t, 5> element_strides{1, 1, 1, 1, 1};
  CUtensorMapInterleave interleave = CU_TENSOR_MAP_INTERLEAVE_NONE;
  CUtensorMapSwizzle swizzle = CU_TENSOR_MAP_SWIZZLE_NONE;
  CUtensorMapL2promotion l2 = CU_TENSOR_MAP_L2_PROMOTION_NONE;
  CUtensorMapFloatOOBfill oob = CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE;

  unsigned element_bytes() const;
  /// Elements per box along dimension i, and bytes per box.
  unsigned box_elements(unsigned i) const { return (box[i] + element_strides[i] - 1) / element_strides[i]; }
  std::size_t box_bytes() const;
};

/// The driver's entry point, emulated: checks the documented argument rules
/// (returns CUDA_ERROR_INVALID_VALUE, with the reason in last_encode_error())
/// and writes the arguments into the map.
CUresult fake_encode_tiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                           const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                           const cuuint32_t* element_strides, CUtensorMapInterleave interleave,
                           CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob);
/// Why the last fake_encode_tiled call on this thread failed ("" if it did not).
const std::string& last_encode_error();

/// The arguments stored in an emulated map (`opaque`: the map's 128 bytes as
/// the kernel sees them); false when those bytes are no emulated map.
bool decode_tensor_map(const void* opaque, TensorMapArguments& out);

/// XOR pattern of a swizzle mode on a shared-memory byte address.
unsigned swizzle_address(unsigned address, CUtensorMapSwizzle swizzle);

/// One box read: bytes[i] goes to shared offset shared_offsets[i] (already
/// swizzled), in 16-byte chunks.
struct TensorBox {
  std::vector<unsigned> chunk_offsets;            ///< shared offset of each 16-byte chunk
  std::vector<std::array<std::uint8_t, 16>> chunks;
  std::size_t bytes = 0;                          ///< transaction bytes (whole box)
  /// The global bytes the copy reads: the in-bounds elements, merged into
  /// contiguous runs (out-of-bounds elements are filled, not read).
  std::vector<ByteRange> global_reads;
  std::string problem;                            ///< "" or what is wrong (bad global read, alignment)
};
/// Reads the box at `coords` (rank of them) for shared destination `dst`.
/// `readable(address, bytes)` says whether a global address may be read.
TensorBox read_tensor_box(const TensorMapArguments& map, unsigned dst, const int (&coords)[5],
                          bool (*readable)(const void*, std::size_t));

}  // namespace emu
