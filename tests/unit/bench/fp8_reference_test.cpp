// The float64 reference of the FP8 benchmark (bench/fp8/Fp8Reference.h):
// scale indexing of each mode, the block-by-block promotion of block128, and
// what an e4m3 output element must hold. Hand-computed expectations.
#include "bench/fp8/Fp8Reference.h"

#include <gtest/gtest.h>

#include <vector>

namespace tilefuse::bench {
namespace {

TEST(Fp8BenchReference, PerTensorMultipliesTheDotByBothScales) {
  HostScales s;
  s.scaling = Fp8Scaling::PerTensor;
  s.m = 1, s.n = 1, s.k = 3;
  s.a = 0.5f, s.b = 4.0f;
  const std::vector<double> a = {1, 2, 3}, w = {0.25, -1, 2};  // dot = 0.25 - 2 + 6 = 4.25
  EXPECT_DOUBLE_EQ(scaled_accumulator(s, 0, 0, a, w), 0.5 * 4.0 * 4.25);
}

TEST(Fp8BenchReference, RowWiseLeavesTheScalesToTheActivation) {
  HostScales s;
  s.scaling = Fp8Scaling::RowWise;
  s.m = 2, s.n = 2, s.k = 2;
  s.row = {3.0f, 5.0f};
  s.col = {7.0f, 11.0f};
  const std::vector<double> a = {1, 2}, w = {3, 4};
  EXPECT_DOUBLE_EQ(scaled_accumulator(s, 1, 1, a, w), 11.0);  // the raw dot: sa, sb are row/col inputs
}

TEST(Fp8BenchReference, Block128ScalesEachKBlockWithItsRowAndColumnBlock) {
  // M = 3, N = 200 (two column blocks), K = 300 (three K blocks, the last 44 wide).
  HostScales s;
  s.scaling = Fp8Scaling::Block128;
  s.m = 3, s.n = 200, s.k = 300;
  ASSERT_EQ(s.k_blocks(), 3);
  // block_a[kb][row] = 10 * kb + row + 1; block_b[nb][kb] = 100 * nb + kb + 1.
  for (int kb = 0; kb < 3; ++kb)
    for (int row = 0; row < 3; ++row) s.block_a.push_back(10.0f * kb + row + 1);
  for (int nb = 0; nb < 2; ++nb)
    for (int kb = 0; kb < 3; ++kb) s.block_b.push_back(100.0f * nb + kb + 1);
  EXPECT_FLOAT_EQ(s.block_a_at(2, 1), 22.0f);
  EXPECT_FLOAT_EQ(s.block_b_at(150, 2), 103.0f);  // column 150 is in column block 1
  // a = 1 everywhere, w = 1 in K block 0, 2 in block 1, 3 in block 2:
  // per-block dots 128, 256, 3 * 44 = 132.
  std::vector<double> a(300, 1.0), w(300);
  for (int i = 0; i < 300; ++i) w[i] = 1.0 + i / 128;
  const long long row = 2, col = 199;  // row 2; column block 1
  const double expected = (1 + 2) * 101.0 * 128 + (11 + 2) * 102.0 * 256 + (21 + 2) * 103.0 * 132;
  EXPECT_DOUBLE_EQ(scaled_accumulator(s, row, col, a, w), expected);
}

TEST(Fp8BenchReference, RandomScalesHaveTheShapesOfEachMode) {
  std::mt19937_64 rng(7);
  const HostScales block = HostScales::random(Fp8Scaling::Block128, 5, 300, 257, 2.0f, rng);
  EXPECT_EQ(block.block_a.size(), 3u * 5);  // ceil(257/128) = 3 K blocks x M
  EXPECT_EQ(block.block_b.size(), 3u * 3);  // ceil(300/128) = 3 column blocks x 3 K blocks
  for (float v : block.block_a) EXPECT_TRUE(v >= 1.0f && v < 3.0f) << v;  // base 2 x [0.5, 1.5)
  const HostScales row = HostScales::random(Fp8Scaling::RowWise, 5, 7, 16, 1.0f, rng);
  EXPECT_EQ(row.row.size(), 5u);
  EXPECT_EQ(row.col.size(), 7u);
  EXPECT_NE(row.row[0], row.row[1]);
}

TEST(Fp8BenchReference, Fp8OutputRoundsTheScaledValueOnceToE4m3Satfinite) {
  EXPECT_DOUBLE_EQ(stored_value(1.2345, false, 4.0f), 1.2345);  // bf16 output: the value itself
  // 75 * 4 = 300 -> e4m3 288 (docs/fp8.md's worked example: [256, 512), ulp 32, 9.375 -> 9).
  EXPECT_DOUBLE_EQ(stored_value(75.0, true, 4.0f), 288.0);
  // 116 * 4 = 464, the tie at the top: even code 448. 1000 saturates to 448, -1000 to -448.
  EXPECT_DOUBLE_EQ(stored_value(116.0, true, 4.0f), 448.0);
  EXPECT_DOUBLE_EQ(stored_value(1000.0, true, 1.0f), 448.0);
  EXPECT_DOUBLE_EQ(stored_value(-1000.0, true, 1.0f), -448.0);
  // 1.0625 (a tie between 1.0 and 1.125) goes to the even code, 1.0.
  EXPECT_DOUBLE_EQ(stored_value(1.0625, true, 1.0f), 1.0);
}

}  // namespace
}  // namespace tilefuse::bench
