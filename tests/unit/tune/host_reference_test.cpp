// The tuner's float64 reference element (runtime/tune/HostReference.h) on
// hand-computed problems: every operand layout the timer builds (row- and
// column-major B, gated with two weights and interleaved), bias, residual,
// alpha, beta and a runtime parameter. A wrong reference would fail every
// candidate on the first GPU run, so it is pinned here.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/tune/HostReference.h"

namespace tilefuse::tune {
namespace {

dsl::ResolvedProgram program(const char* text) {
  auto resolved = dsl::resolve(text);
  EXPECT_TRUE(resolved) << resolved.error().message;
  return *resolved;
}

double at(const HostGemm& g, const char* activation, long long row, long long col,
          const dsl::ParameterValues& values = {}) {
  auto v = host_reference_element(g, program(activation), values, row, col);
  EXPECT_TRUE(v) << v.error().message;
  return v ? *v : -1e300;
}

// A = [[1, 2], [3, 4]] (2 x 2), B = [[1, 0, 2], [0, 1, -1]] (2 x 3).
const std::vector<float> kA = {1, 2, 3, 4};
const std::vector<float> kBRowMajor = {1, 0, 2, 0, 1, -1};
const std::vector<float> kBColMajor = {1, 0, 0, 1, 2, -1};  // the same B as 3 x 2

TEST(HostReference, SingleInputWithAlphaBiasBetaResidualAndAParameter) {
  const std::vector<float> bias = {0.5f, 0, 0}, c = {1, 1, 1, 0, 0, 0};
  HostGemm g{.m = 2, .n = 3, .k = 2, .alpha = 2.0f, .beta = 0.5f, .a = kA, .b = kBRowMajor, .bias = bias, .c = c};
  EXPECT_DOUBLE_EQ(at(g, "x", 0, 0), 2 * 1 + 0.5 + 0.5 * 1);  // acc = 1
  EXPECT_DOUBLE_EQ(at(g, "x", 1, 2), 2 * 2.0);                // acc = 3·2 + 4·(-1)
  EXPECT_DOUBLE_EQ(at(g, "x * s", 1, 2, {{"s", 0.25}}), 1.0);
  HostGemm col = g;
  col.b = kBColMajor;
  col.b_col_major = true;
  EXPECT_DOUBLE_EQ(at(col, "x", 1, 2), 4.0);
  EXPECT_DOUBLE_EQ(at(col, "x", 0, 1), 2 * 2.0 + 0 + 0.5);  // acc = 2
}

TEST(HostReference, GatedWithTwoWeights) {
  const std::vector<float> up = {1, 1, 1, 1, 1, 1};
  HostGemm g{.m = 2, .n = 3, .k = 2, .gated = true, .a = kA, .b = kBRowMajor, .b_up = up};
  EXPECT_DOUBLE_EQ(at(g, "gate * up", 1, 2), 2.0 * 7.0);
  EXPECT_DOUBLE_EQ(at(g, "gate - up", 0, 0), 1.0 - 3.0);
}

TEST(HostReference, GatedInterleavedInBothMajors) {
  // Interleave 1: features [g0, u0, g1, u1]; K = 2 rows of them.
  const std::vector<float> row_major = {1, 10, 2, 20, 3, 30, 4, 40};
  const std::vector<float> a = {1, 1};
  HostGemm g{.m = 1, .n = 2, .k = 2, .gated = true, .gate_interleave = 1, .a = a, .b = row_major};
  EXPECT_DOUBLE_EQ(at(g, "gate", 0, 1), 2.0 + 4.0);
  EXPECT_DOUBLE_EQ(at(g, "up", 0, 1), 20.0 + 40.0);
  EXPECT_DOUBLE_EQ(at(g, "up", 0, 0), 10.0 + 30.0);
  const std::vector<float> col_major = {1, 3, 10, 30, 2, 4, 20, 40};  // feature rows
  HostGemm col = g;
  col.b = col_major;
  col.b_col_major = true;
  EXPECT_DOUBLE_EQ(at(col, "gate * up", 0, 1), 6.0 * 60.0);
}

TEST(HostReference, PositionsOutsideTheOutputOrShortInputsAreInvalidInput) {
  HostGemm g{.m = 2, .n = 3, .k = 2, .a = kA, .b = kBRowMajor};
  auto outside = host_reference_element(g, program("x"), {}, 2, 0);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::InvalidInput);
  g.k = 3;  // A and B hold K = 2 only
  EXPECT_FALSE(host_reference_element(g, program("x"), {}, 0, 0));
  g.k = 2;
  auto missing = host_reference_element(g, program("x * s"), {}, 0, 0);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("s"), std::string::npos);
}

}  // namespace
}  // namespace tilefuse::tune
