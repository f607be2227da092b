// The sm_90a kernel's TMA loads, checked without a GPU: the tensor maps the
// host builds (sm90_map_shapes) read with the coordinates the kernel issues
// (mirrored here from templates/tilefuse/gemm_sm90.cuh, load_b and the A
// load) must put, at every position of a stage buffer, the element the
// wgmma descriptors expect there:
//   A:                 row r, k c        → A[m0 + r][k0 + c]
//   B col-major:       row r, k c        → W[weight_index(n0 + r, which)][k0 + c]
//   B row-major:       block j, k r, n c → W[k0 + r][weight_index(n0 + 64 j + c, which)]
// (out of bounds: 0). The box is read as TMA does: element (i0..i4) of the box
// at coordinates (c0..c4) is global[sum (c_d + i_d) * stride_d], zero if any
// c_d + i_d >= dims_d, written to shared memory in box order, innermost first
// (the 128-byte swizzle is applied on top by the hardware and undone by the
// descriptor's swizzle mode, so it is not modelled).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <vector>

#include "runtime/ops/Sm90Params.h"

namespace tilefuse::ops {
namespace {

using compiler::TileConfig;

/// Global memory: element values are their own element offset + 1 (0 = fill).
double element_at(long long offset) { return static_cast<double>(offset + 1); }

/// One TMA box read into a flat vector in box order.
std::vector<double> read_box(const TmaMapShape& map, std::array<long long, 5> coords) {
  std::array<long long, 5> stride_elements{1, 0, 0, 0, 0};
  for (int d = 1; d < 5; ++d) stride_elements[d] = static_cast<long long>(map.strides[d - 1]) / 2;
  std::vector<double> out;
  std::array<long long, 5> i{};
  for (i[4] = 0; i[4] < map.box[4]; ++i[4])
    for (i[3] = 0; i[3] < map.box[3]; ++i[3])
      for (i[2] = 0; i[2] < map.box[2]; ++i[2])
        for (i[1] = 0; i[1] < map.box[1]; ++i[1])
          for (i[0] = 0; i[0] < map.box[0]; ++i[0]) {
            long long offset = 0;
            bool inside = true;
            for (int d = 0; d < 5; ++d) {
              const long long x = coords[d] + i[d];
              inside = inside && x >= 0 && x < static_cast<long long>(map.dims[d]);
              offset += x * stride_elements[d];
            }
            out.push_back(inside ? element_at(offset) : 0.0);
          }
  return out;
}

/// gemm_sm80.cuh / gemm_sm90.cuh weight_index: interleaved blocks of ib gate
/// features, then ib up features.
long long weight_index(long long n, int which, int ib) {
  return ib == 0 ? n : (n / ib) * 2 * ib + which * ib + n % ib;
}

struct Layout {
  bool col_major;
  int interleave;  // 0: not interleaved (gated: separate W_up, same map)
  TileConfig tile;
  long long m, n, k;
};

class TmaBoxes : public ::testing::TestWithParam<Layout> {};

TEST_P(TmaBoxes, EveryStageElementIsTheOneTheDescriptorsExpect) {
  const Layout l = GetParam();
  const TileConfig& t = l.tile;
  const int ib = l.interleave;
  GemmOperands operands{.gated = true, .gate_interleave = ib, .b_col_major = l.col_major};
  ASSERT_TRUE(check_sm90_operands(operands, t));
  const long long features = ib ? 2 * l.n : l.n;
  GemmParams p;
  p.m = l.m, p.n = l.n, p.k = l.k;
  p.lda = (l.k + 7) / 8 * 8 + 8;  // padded rows: strides are not the extents
  p.ldb = l.col_major ? (l.k + 7) / 8 * 8 + 16 : (features + 7) / 8 * 8 + 8;
  p.batch_stride_a = p.lda * l.m;
  p.batch_stride_b = p.ldb * (l.col_major ? features : l.k);
  const long long batch = 2;
  const Sm90MapShapes maps = sm90_map_shapes(p, operands, t, batch);
  ASSERT_TRUE(maps.a_batched && maps.b_batched);
  for (const auto* map : {&maps.a, &maps.b})
    for (cuuint64_t s : map->strides) EXPECT_EQ(s % 16, 0u) << "TMA strides are multiples of 16 bytes";

  long long mismatches = 0;
  for (int b = 0; b < batch; ++b)
    for (long long k0 = 0; k0 < l.k; k0 += 64) {
      // A box at (k0, m0, batch, 0, 0).
      for (long long m0 = 0; m0 < l.m; m0 += t.block_m) {
        const auto box = read_box(maps.a, {k0, m0, b, 0, 0});
        ASSERT_EQ(box.size(), static_cast<size_t>(t.block_m * 64));
        for (long long r = 0; r < t.block_m; ++r)
          for (long long c = 0; c < 64; ++c) {
            const bool inside = m0 + r < l.m && k0 + c < l.k;
            const double want = inside ? element_at(b * p.batch_stride_a + (m0 + r) * p.lda + k0 + c) : 0.0;
            mismatches += box[r * 64 + c] != want;
          }
      }
      for (long long n0 = 0; n0 < l.n; n0 += t.block_n)
        for (int which = 0; which < 2; ++which) {
          const long long base = b * p.batch_stride_b;
          if (l.col_major) {
            const auto box = ib == 0 ? read_box(maps.b, {k0, n0, b, 0, 0})
                                     : read_box(maps.b, {k0, n0 % ib, which, n0 / ib, b});
            ASSERT_EQ(box.size(), static_cast<size_t>(t.block_n * 64));
            for (long long r = 0; r < t.block_n; ++r)
              for (long long c = 0; c < 64; ++c) {
                const bool inside = n0 + r < l.n && k0 + c < l.k;
                const double want =
                    inside ? element_at(base + weight_index(n0 + r, which, ib) * p.ldb + k0 + c) : 0.0;
                mismatches += box[r * 64 + c] != want;
              }
          } else {
            for (long long j = 0; j < t.block_n / 64; ++j) {
              const long long n = n0 + 64 * j;
              const auto box =
                  ib == 0 ? read_box(maps.b, {n, k0, b, 0, 0}) : read_box(maps.b, {n % ib, which, n / ib, k0, b});
              ASSERT_EQ(box.size(), static_cast<size_t>(64 * 64));
              for (long long r = 0; r < 64; ++r)
                for (long long c = 0; c < 64; ++c) {
                  const bool inside = k0 + r < l.k && n + c < l.n;
                  const double want =
                      inside ? element_at(base + (k0 + r) * p.ldb + weight_index(n + c, which, ib)) : 0.0;
                  mismatches += box[r * 64 + c] != want;
                }
            }
          }
        }
    }
  EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, TmaBoxes,
    ::testing::Values(Layout{true, 0, {128, 128, 64, 64, 128, 3, 4, 8}, 200, 200, 130},
                      Layout{false, 0, {64, 256, 64, 64, 256, 3, 4, 8}, 70, 300, 100},
                      Layout{true, 16, {64, 128, 64, 64, 128, 3, 4, 8}, 65, 160, 64},
                      Layout{true, 256, {64, 128, 64, 64, 128, 3, 4, 8}, 65, 512, 70},
                      Layout{false, 64, {64, 128, 64, 64, 128, 3, 4, 8}, 33, 192, 129},
                      Layout{false, 128, {128, 64, 64, 128, 64, 3, 4, 8}, 130, 256, 64}),
    [](const auto& info) {
      const Layout& l = info.param;
      return fmt::format("{}_interleave{}_bn{}", l.col_major ? "colB" : "rowB", l.interleave, l.tile.block_n);
    });

}  // namespace
}  // namespace tilefuse::ops
