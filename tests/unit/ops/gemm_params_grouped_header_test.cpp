// The TfGemmParams layout of a grouped kernel (issue 15) and the device tile
// cursor (templates/tilefuse/grouped.cuh), compiled as host code: the
// TfGroupedParams block lands where pack_kernel_params writes it (after the
// operand vectors), and the cursor numbers the tiles of every group, group
// after group, skipping empty groups and clamping device data it cannot trust.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/GemmParams.h"

// What the generated source defines before the headers (CudaEmitter.cpp,
// KernelSource.cpp): one row input, no column input, two parameters, contiguous.
#define TF_EPILOGUE_VEC 4
#define TF_EPILOGUE_ROW_INPUTS 1
#define TF_EPILOGUE_COL_INPUTS 0
#define TF_GEMM_GROUPED 1
struct TfEpilogueParams {
  float p0, p1;
};
struct TfEpilogueOperands {
  float row[1];
  float col[1][TF_EPILOGUE_VEC];
};
#define __device__
#define __forceinline__ inline
#include "templates/tilefuse/gemm_params.cuh"
#include "templates/tilefuse/grouped.cuh"
#undef __device__
#undef __forceinline__

namespace tilefuse::ops {
namespace {

static_assert(offsetof(TfGemmParams, grouped) == kernel_params_bytes(2, 1, 0));
static_assert(offsetof(TfGemmParams, grouped) == 176 + 32);
static_assert(offsetof(TfGemmParams, grouped) + offsetof(TfGroupedParams, rows) ==
              kernel_params_bytes(2, 1, 0) + offsetof(GroupedParams, rows));
static_assert(offsetof(TfGroupedParams, groups) == offsetof(GroupedParams, groups));
static_assert(offsetof(TfGroupedParams, bias_group_stride) == offsetof(GroupedParams, bias_group_stride));
static_assert(sizeof(TfGemmParams) == kernel_params_bytes(2, 1, 0, /*grouped=*/true, /*fp8=*/false));

TEST(GemmParamsGroupedHeader, PackKernelParamsWritesTheGroupedBlockAfterTheOperandVectors) {
  GemmParams params;
  params.m = 300;
  const float values[] = {0.5f, 2.0f};
  OperandVectors vectors;
  vectors.rows = 1;
  const float route[4] = {};
  vectors.row[0] = route;
  vectors.row_batch_stride[0] = 0;
  const int offsets[3] = {0, 100, 300};
  GroupedParams grouped;
  grouped.rows = offsets;
  grouped.groups = 2;
  grouped.bias_group_stride = 64;
  KernelParamBuffer buffer;
  pack_kernel_params(params, values, buffer, vectors, &grouped);
  ASSERT_EQ(buffer.size, sizeof(TfGemmParams));
  TfGemmParams device;
  std::memcpy(&device, buffer.bytes, sizeof device);
  EXPECT_EQ(device.m, 300);
  EXPECT_EQ(device.epilogue.p1, 2.0f);
  EXPECT_EQ(device.operands.row[0], route);
  EXPECT_EQ(device.grouped.rows, offsets);
  EXPECT_EQ(device.grouped.groups, 2);
  EXPECT_EQ(device.grouped.bias_group_stride, 64);
  // Without the grouped block the size is the operand-vector layout's.
  pack_kernel_params(params, values, buffer, vectors);
  EXPECT_EQ(buffer.size, kernel_params_bytes(2, 1, 0));
}

struct Tile {
  long long m0, n0, row_end;
  int group;
  bool operator==(const Tile&) const = default;
};

/// Every tile index of a launch of `grid` blocks through the cursor, as the
/// kernel's blocks do (each block seeks from a fresh cursor).
std::vector<Tile> tiles_of(const std::vector<int>& sizes, long long m, long long n, unsigned grid) {
  TfGemmParams p{};
  p.m = m;
  p.n = n;
  p.grouped.rows = sizes.data();
  p.grouped.groups = static_cast<long long>(TF_GEMM_GROUPED == 1 ? sizes.size() - 1 : sizes.size());
  const unsigned tiles_n = static_cast<unsigned>((n + 63) / 64);
  std::vector<Tile> out;
  for (unsigned t = 0; t < grid; ++t) {
    tf::grouped::TileCursor<64, 64, 2> cursor;
    if (!cursor.seek(p, tiles_n, t)) continue;
    const tf::grouped::GroupTile g = cursor.tile(tiles_n, t);
    out.push_back({g.m0, g.n0, g.row_end, g.group});
  }
  return out;
}

TEST(GroupedTileCursor, NumbersTheTilesOfEveryGroupAndSkipsEmptyOnes) {
  // Groups of 0, 130, 0, 1 rows (T = 131), N = 100: 2 column tiles.
  const std::vector<int> offsets = {0, 0, 130, 130, 131};
  const long long bound = grouped_tile_rows_bound(GroupLayout::Contiguous, 131, 4, 64) * 2;
  const std::vector<Tile> tiles = tiles_of(offsets, 131, 100, static_cast<unsigned>(bound));
  // Group 1: 3 tile rows (0, 64, 128) x 2 columns in the GROUP_M = 2 raster
  // (rows 0 and 64 sweep N together, then row 128); group 3: one tile row.
  const std::vector<Tile> expected = {
      {0, 0, 130, 1},  {64, 0, 130, 1},  {0, 64, 130, 1}, {64, 64, 130, 1},
      {128, 0, 130, 1}, {128, 64, 130, 1}, {130, 0, 131, 3}, {130, 64, 131, 3},
  };
  EXPECT_EQ(tiles, expected);
  EXPECT_GE(bound, static_cast<long long>(expected.size()));  // the host's grid covers every tile
}

TEST(GroupedTileCursor, ClampsOffsetsItCannotTrust) {
  // Offsets past T and a decreasing pair: rows stay inside [0, T), the
  // decreasing group reads as empty, and a group starts no earlier than the
  // previous one ended (group 2 would start at 20: rows 20..39 stored twice;
  // in all at most T rows, so the host's grid bound holds for any offsets).
  const std::vector<int> offsets = {-5, 40, 20, 500};
  const std::vector<Tile> tiles = tiles_of(offsets, 100, 64, 64);
  const std::vector<Tile> expected = {{0, 0, 40, 0}, {40, 0, 100, 2}};
  EXPECT_EQ(tiles, expected);
  EXPECT_LE(static_cast<long long>(tiles.size()), grouped_tile_rows_bound(GroupLayout::Contiguous, 100, 3, 64));
}

TEST(GroupedTileCursor, ContiguousGridBoundCoversTheWorstSplit) {
  // Every split of T rows into E groups needs at most the bound's tile rows:
  // checked against every split of 0..130 rows into 3 groups (block 64).
  for (int t = 0; t <= 130; t += 13)
    for (int a = 0; a <= t; ++a)
      for (int b = 0; a + b <= t; b += 7) {
        const int c = t - a - b;
        const long long rows = (a + 63) / 64 + (b + 63) / 64 + (c + 63) / 64;
        ASSERT_LE(rows, grouped_tile_rows_bound(GroupLayout::Contiguous, t, 3, 64)) << a << " " << b << " " << c;
      }
  EXPECT_EQ(grouped_tile_rows_bound(GroupLayout::Masked, 129, 4, 64), 4 * 3);
}

}  // namespace
}  // namespace tilefuse::ops
