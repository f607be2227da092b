// See Sm90Params.h.
#include "runtime/ops/Sm90Params.h"

#include <array>

#include <fmt/format.h>

namespace tilefuse::ops {
namespace {

constexpr int kRank = 5;
constexpr unsigned kRowBytes = 128;  // the K extent of a box: one 128-byte swizzled row
constexpr unsigned kBoxN = 64;       // row-major B: one 64-column block per box (16-bit only)

/// K elements of a box: 64 16-bit or 128 FP8 (1-byte) elements.
unsigned box_k(int element_bytes) { return kRowBytes / static_cast<unsigned>(element_bytes); }

/// Fills strides of extent-1 dimensions (never stepped) with the previous
/// stride so that every stride is a valid multiple of 16 bytes.
void fill_unused_strides(TmaMapShape& shape) {
  for (size_t i = 1; i < shape.strides.size(); ++i)
    if (shape.strides[i] == 0) shape.strides[i] = shape.strides[i - 1];
}

Expected<CUtensorMap> encode(const runtime::DriverApi& api, const void* base, const TmaMapShape& shape,
                             compiler::DType input_type, const char* what) {
  CUtensorMap map;
  const std::array<cuuint32_t, 5> element_strides{1, 1, 1, 1, 1};
  // FP8 (e4m3, e5m2): bytes to TMA, which copies without converting.
  const CUtensorMapDataType type = compiler::is_fp8(input_type)          ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                   : input_type == compiler::DType::BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                                         : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  const CUresult r = api.cuTensorMapEncodeTiled(
      &map, type, kRank, const_cast<void*>(base), shape.dims.data(), shape.strides.data(), shape.box.data(),
      element_strides.data(), CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    return runtime::driver_error(
        api, r,
        fmt::format("cuTensorMapEncodeTiled({}: dims {}x{}x{}x{}x{}, strides {} {} {} {} B, box {}x{}x{}x{}x{})", what,
                    shape.dims[0], shape.dims[1], shape.dims[2], shape.dims[3], shape.dims[4], shape.strides[0],
                    shape.strides[1], shape.strides[2], shape.strides[3], shape.box[0], shape.box[1], shape.box[2],
                    shape.box[3], shape.box[4]));
  return map;
}

}  // namespace

bool sm90a_kernel_serves(const GemmOperands& operands) {
  if (operands.gated && operands.aux) return false;
  const int ib = operands.gated ? operands.gate_interleave : 0;
  return ib == 0 || operands.b_col_major || ib % static_cast<int>(kBoxN) == 0;
}

Expected<void> check_sm90_operands(const GemmOperands& operands, const compiler::TileConfig& tile) {
  if (operands.input_bytes == 1 && !operands.b_col_major)
    return make_error(ErrorCode::Unsupported,
                      "FP8 wgmma reads both operands K-major: pass B as N x K (MatmulOptions::b_col_major = "
                      "true), as PyTorch Linear weights are stored");
  if (operands.gated && operands.aux)
    return make_error(ErrorCode::Unsupported,
                      "a gated op with aux ([gate | up] for the backward) is not served by the sm_90a (wgmma) "
                      "kernel, which does not store aux: on Hopper leave MatmulOptions::arch unset (the sm_90 "
                      "mma.sync kernel is chosen) or force Arch::Sm90");
  const int ib = operands.gated ? operands.gate_interleave : 0;
  if (ib == 0) return {};
  if (!operands.b_col_major && ib % static_cast<int>(kBoxN) != 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("the sm_90a GEMM loads a row-major (K x 2N) interleaved weight in 64-column "
                                  "TMA boxes, which needs gate_interleave to be a multiple of 64 (got {}): "
                                  "interleave in blocks of 64, pass the weight column-major (N x K, "
                                  "MatmulOptions::b_col_major), or use the sm_90 mma.sync kernel (leave "
                                  "MatmulOptions::arch unset, or Arch::Sm90)",
                                  ib));
  if (operands.b_col_major && tile.block_n % ib != 0 && ib % tile.block_n != 0)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("the sm_90a GEMM loads a column-major interleaved weight in boxes of whole "
                                  "interleave blocks: block_n {} and gate_interleave {} must divide one "
                                  "another (use a power-of-two interleave or force a tile whose block_n fits)",
                                  tile.block_n, ib));
  return {};
}

Sm90MapShapes sm90_map_shapes(const GemmParams& p, const GemmOperands& operands, const compiler::TileConfig& tile,
                              long long batch) {
  Sm90MapShapes out;
  // Grouped: `batch` is the number of experts, the batch coordinate of B
  // (and of a masked A); a contiguous A is one [T, K] matrix whose rows the
  // kernel addresses globally (its batch stride is 0 as well).
  out.a_batched = operands.grouped != GroupLayout::Contiguous && batch > 1 && p.batch_stride_a != 0;
  out.b_batched = batch > 1 && p.batch_stride_b != 0;
  const cuuint64_t element_bytes = static_cast<cuuint64_t>(operands.input_bytes);
  const auto bytes = [&](long long elements) { return static_cast<cuuint64_t>(elements) * element_bytes; };
  const unsigned box_k_elements = box_k(operands.input_bytes);  // one 128-byte row of K
  const auto u64 = [](long long v) { return static_cast<cuuint64_t>(v); };

  TmaMapShape& a = out.a;  // {K, M, batch}
  a.dims = {u64(p.k), u64(p.m), out.a_batched ? u64(batch) : 1, 1, 1};
  a.strides = {bytes(p.lda), out.a_batched ? bytes(p.batch_stride_a) : 0, 0, 0};
  a.box = {box_k_elements, static_cast<cuuint32_t>(tile.block_m), 1, 1, 1};

  const int ib = operands.gated ? operands.gate_interleave : 0;
  const cuuint64_t batches = out.b_batched ? u64(batch) : 1;
  const cuuint64_t batch_stride = out.b_batched ? bytes(p.batch_stride_b) : 0;
  TmaMapShape& b = out.b;
  if (operands.b_col_major && ib == 0) {  // {K, N, batch}
    b.dims = {u64(p.k), u64(p.n), batches, 1, 1};
    b.strides = {bytes(p.ldb), batch_stride, 0, 0};
    b.box = {box_k_elements, static_cast<cuuint32_t>(tile.block_n), 1, 1, 1};
  } else if (operands.b_col_major) {  // {K, IB, gate|up, N/IB, batch}
    const long long rows = std::min<long long>(ib, tile.block_n);
    b.dims = {u64(p.k), u64(ib), 2, u64(p.n / ib), batches};
    b.strides = {bytes(p.ldb), bytes(p.ldb * ib), bytes(p.ldb * 2 * ib), batch_stride};
    b.box = {box_k_elements, static_cast<cuuint32_t>(rows), 1, static_cast<cuuint32_t>(tile.block_n / rows), 1};
  } else if (ib == 0) {  // {N, K, batch}
    b.dims = {u64(p.n), u64(p.k), batches, 1, 1};
    b.strides = {bytes(p.ldb), batch_stride, 0, 0};
    b.box = {kBoxN, box_k_elements, 1, 1, 1};
  } else {  // {IB, gate|up, N/IB, K, batch}
    b.dims = {u64(ib), 2, u64(p.n / ib), u64(p.k), batches};
    b.strides = {bytes(ib), bytes(2 * ib), bytes(p.ldb), batch_stride};
    b.box = {kBoxN, 1, 1, box_k_elements, 1};
  }
  fill_unused_strides(out.a);
  fill_unused_strides(out.b);
  return out;
}

Expected<Sm90KernelParams> encode_sm90_params(const runtime::DriverApi& api, const GemmParams& p,
                                              const GemmOperands& operands, compiler::DType input_type,
                                              const compiler::TileConfig& tile, long long batch) {
  if (auto ok = check_sm90_operands(operands, tile); !ok) return ok.take_error();
  const Sm90MapShapes shapes = sm90_map_shapes(p, operands, tile, batch);
  Sm90KernelParams out;
  out.batch_count = static_cast<int>(batch);
  out.a_batched = shapes.a_batched ? 1 : 0;
  out.b_batched = shapes.b_batched ? 1 : 0;
  auto map_a = encode(api, p.a, shapes.a, input_type, "A");
  if (!map_a) return map_a.take_error();
  out.a = *map_a;
  auto map_b = encode(api, p.b, shapes.b, input_type, "B");
  if (!map_b) return map_b.take_error();
  out.b = *map_b;
  if (operands.gated && operands.gate_interleave == 0) {
    auto map_up = encode(api, p.b_up, shapes.b, input_type, "W_up");
    if (!map_up) return map_up.take_error();
    out.b_up = *map_up;
  } else {
    out.b_up = out.b;
  }
  return out;
}

namespace {
/// Everything a tensor map of one launch depends on.
struct Sm90ParamsKey {
  const void* op = nullptr;
  const void *a = nullptr, *b = nullptr, *b_up = nullptr;
  long long m = 0, n = 0, k = 0, lda = 0, ldb = 0, batch_stride_a = 0, batch_stride_b = 0, batch = 0;
  compiler::TileConfig tile;
  compiler::DType input_type = compiler::DType::BF16;
  bool gated = false, b_col_major = false;
  int gate_interleave = 0;
  bool operator==(const Sm90ParamsKey&) const = default;
};
}  // namespace

Expected<const Sm90KernelParams*> cached_sm90_params(const void* op, const runtime::DriverApi& api,
                                                     const GemmParams& p, const GemmOperands& operands,
                                                     compiler::DType input_type, const compiler::TileConfig& tile,
                                                     long long batch) {
  struct Entry {
    Sm90ParamsKey key;
    Sm90KernelParams value;
    bool valid = false;
  };
  thread_local Entry last;
  const Sm90ParamsKey key{op,
                          p.a,
                          p.b,
                          p.b_up,
                          p.m,
                          p.n,
                          p.k,
                          p.lda,
                          p.ldb,
                          p.batch_stride_a,
                          p.batch_stride_b,
                          batch,
                          tile,
                          input_type,
                          operands.gated,
                          operands.b_col_major,
                          operands.gate_interleave};
  if (last.valid && last.key == key) return &last.value;
  last.valid = false;
  auto encoded = encode_sm90_params(api, p, operands, input_type, tile, batch);
  if (!encoded) return encoded.take_error();
  last.key = key;
  last.value = *encoded;
  last.valid = true;
  return &last.value;
}

}  // namespace tilefuse::ops
