// Issue 13: the GPU harness's comparison (runtime/check/GemmCheck.h) on the CPU.
// The norm ratio ‖out − ref‖/‖ref‖ <= 1e-2 alone lets one wrong element of a
// 127 x 255 output through (it moves the ratio by ~0.6 %); the per-element
// bound |out − ref| <= rtol·|ref| + atol·rms(ref) catches it, and accepts
// what a correct bf16 kernel produces.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "runtime/check/GemmCheck.h"

namespace tilefuse::gpu {
namespace {

constexpr long long kM = 127, kN = 255;

/// A reference like an activation's output, and a "device" output rounded
/// to bf16 (8 significant bits) the way a correct kernel's is.
struct Outputs {
  std::vector<double> ref, out;
};

double round_to_bf16(double v) {
  int exponent = 0;
  const double mantissa = std::frexp(v, &exponent);  // [0.5, 1)
  return std::ldexp(std::nearbyint(mantissa * 256.0) / 256.0, exponent);
}

Outputs correct_outputs() {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> normal(0.0, 1.0);
  Outputs o;
  for (long long i = 0; i < kM * kN; ++i) {
    const double x = normal(rng);
    o.ref.push_back(x / (1.0 + std::exp(-x)));  // silu
    o.out.push_back(round_to_bf16(o.ref.back()));
  }
  return o;
}

TEST(GemmCheckBounds, ACorrectBf16OutputPassesBothBounds) {
  const Outputs o = correct_outputs();
  const Comparison c = compare_elements(o.out, o.ref);
  EXPECT_TRUE(within_bounds(c)) << "rel " << c.rel_error << ", " << c.violations << " elements beyond the bound";
  EXPECT_LT(c.rel_error, 5e-3);
}

TEST(GemmCheckBounds, OneWrongElementOf127x255PassesTheNormBoundButNotTheElementBound) {
  Outputs o = correct_outputs();
  const double rms = compare_elements(o.ref, o.ref).rms_ref;
  const long long wrong = 77 * kN + 201;
  o.out[wrong] = o.ref[wrong] + rms;  // e.g. a stale or misplaced value
  const Comparison c = compare_elements(o.out, o.ref);
  EXPECT_TRUE(within_norm_bound(c)) << "the old bound alone: rel " << c.rel_error;
  EXPECT_GT(c.rel_error, 4e-3);
  EXPECT_FALSE(within_bounds(c));
  EXPECT_EQ(c.violations, 1);
  EXPECT_EQ(c.first_violation, wrong);
}

TEST(GemmCheckBounds, NearZeroElementsAreJudgedAgainstTheRmsAndNaNIsAViolation) {
  Outputs o = correct_outputs();
  const double rms = compare_elements(o.ref, o.ref).rms_ref;
  // An element whose reference is ~0: an absolute error well under 1 % of
  // rms(ref) is fine (relative error alone would reject it) ...
  o.ref[5] = 1e-9;
  o.out[5] = 2e-3 * rms;
  EXPECT_EQ(compare_elements(o.out, o.ref).violations, 0);
  // ... 5 % of rms(ref) is not.
  o.out[5] = 5e-2 * rms;
  EXPECT_EQ(compare_elements(o.out, o.ref).violations, 1);
  o.out[5] = o.ref[5];
  o.out[9] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(compare_elements(o.out, o.ref).violations, 1);
}

}  // namespace
}  // namespace tilefuse::gpu
