// The second kernel parameter of the sm_90a GEMM (TfSm90Params in
// templates/tilefuse/gemm_sm90.cuh): the TMA tensor maps of A and B, encoded
// on the host per launch (the pointers change from call to call), and the
// batch description the persistent tile loop needs.
#pragma once

#include <cuda.h>

#include <array>
#include <cstddef>

#include "compiler/Types.h"
#include "runtime/Driver.h"
#include "runtime/ops/GemmArguments.h"
#include "runtime/ops/GemmParams.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

/// Field for field TfSm90Params; passed by value as a __grid_constant__
/// parameter (the tensor maps must stay in parameter space).
struct alignas(128) Sm90KernelParams {
  CUtensorMap a;
  CUtensorMap b;
  CUtensorMap b_up;
  int batch_count = 1;
  int a_batched = 0;
  int b_batched = 0;
};
static_assert(sizeof(CUtensorMap) == 128 && alignof(CUtensorMap) == 128, "CUDA 13 tensor maps: 128 bytes, 128-aligned");
static_assert(offsetof(Sm90KernelParams, b) == 128 && offsetof(Sm90KernelParams, b_up) == 256);
static_assert(offsetof(Sm90KernelParams, batch_count) == 384 && offsetof(Sm90KernelParams, b_batched) == 392);
static_assert(sizeof(Sm90KernelParams) == 512, "TfSm90Params is 512 bytes in CUDA C++");

/// One rank-5 TMA tensor map as cuTensorMapEncodeTiled takes it: extents
/// (innermost first; unused dimensions have extent 1), byte strides of
/// dimensions 1..4, and the box one copy loads.
struct TmaMapShape {
  std::array<cuuint64_t, 5> dims{1, 1, 1, 1, 1};
  std::array<cuuint64_t, 4> strides{};
  std::array<cuuint32_t, 5> box{1, 1, 1, 1, 1};
};

/// The maps of one launch, before encoding (pure arithmetic: unit-tested
/// against the kernel's box coordinates without a GPU). A grouped op
/// (operands.grouped) passes the number of experts E as `batch`: B (and
/// W_up) is [E, K, N] or [E, N, K], batched by expert like a batched GEMM's
/// weights; A is [E, M_max, K] batched by expert (masked) or the one [T, K]
/// matrix of every expert (contiguous: not batched, global rows).
struct Sm90MapShapes {
  TmaMapShape a, b;  ///< b also describes W_up (separate weights: same shape)
  bool a_batched = false, b_batched = false;
};
Sm90MapShapes sm90_map_shapes(const GemmParams& params, const GemmOperands& operands,
                              const compiler::TileConfig& tile, long long batch);

/// Whether the sm_90a kernel serves `operands` whatever the tile: not a
/// gated op with aux (no [gate | up] store) nor a row-major interleaved
/// weight whose gate_interleave is not a multiple of 64 (one TMA box row).
/// Where it does not, Hopper launches run the sm_90 mma.sync kernel.
bool sm90a_kernel_serves(const GemmOperands& operands);

/// Why the sm_90a kernel cannot serve `operands` with `tile` (a TMA box
/// rule, or FP8 with a row-major B), as an Unsupported error that says what
/// to change; success when it can.
Expected<void> check_sm90_operands(const GemmOperands& operands, const compiler::TileConfig& tile);

/// Encodes the tensor maps for `params` (checked by make_gemm_params: 16-byte
/// aligned pointers, leading dimensions and batch strides multiples of 8
/// elements, which are TMA's rules too) with the boxes `tile` loads: A boxes
/// of 128 bytes of K (64 16-bit or 128 FP8 elements) x block_m rows; B boxes
/// per layout (see gemm_sm90.cuh load_b). FP8 tensors are UINT8 maps.
/// 128-byte swizzle, zero fill out of bounds. DriverError when the driver
/// rejects a map. Costs two or three cuTensorMapEncodeTiled calls (host only).
Expected<Sm90KernelParams> encode_sm90_params(const runtime::DriverApi& api, const GemmParams& params,
                                              const GemmOperands& operands, compiler::DType input_type,
                                              const compiler::TileConfig& tile, long long batch);

/// encode_sm90_params behind a one-entry cache per thread: a launch with the
/// same op, tile, pointers, shape, leading dimensions, strides and batch as
/// this thread's previous sm_90a launch reuses its tensor maps (the common
/// case of a layer called again on the same buffers) instead of encoding two
/// or three again. Allocates nothing.
Expected<const Sm90KernelParams*> cached_sm90_params(const void* op, const runtime::DriverApi& api,
                                                     const GemmParams& params, const GemmOperands& operands,
                                                     compiler::DType input_type, const compiler::TileConfig& tile,
                                                     long long batch);

}  // namespace tilefuse::ops
