// Issue 13: the tuner's check of a candidate's output (runtime/tune/OutputCheck.h),
// fed the values a GPU would return. The poisoned output of a candidate that
// writes nothing is rejected, the first candidate included (it used to be
// trusted as the reference), and later ones are held to the first's output too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "runtime/tune/OutputCheck.h"

namespace tilefuse::tune {
namespace {

constexpr long long kM = 37, kN = 45;  // odd: the corners are tails
constexpr double kBound = 2e-2;

/// A smooth float64 "reference GEMM" for the test.
double exact(long long row, long long col) { return std::sin(0.37 * row + 1.3) * std::cos(0.11 * col - 0.4) * 3.0; }

std::vector<float> right_output() {
  std::vector<float> out(kM * kN);
  for (long long r = 0; r < kM; ++r)
    for (long long c = 0; c < kN; ++c) out[r * kN + c] = static_cast<float>(exact(r, c));
  return out;
}

/// What a D buffer poisoned with cuMemsetD8(0xFF) holds when nobody writes it.
std::vector<float> poisoned_output() {
  std::vector<float> out(kM * kN);
  std::memset(out.data(), 0xFF, out.size() * sizeof(float));
  return out;
}

std::vector<ReferenceSample> samples() {
  auto s = reference_samples(kM, kN, 64, [](long long r, long long c) -> Expected<double> { return exact(r, c); });
  EXPECT_TRUE(s);
  return *s;
}

TEST(OutputCheck, APoisonedOutputIsRejectedEvenForTheFirstCandidate) {
  const auto out = poisoned_output();
  ASSERT_TRUE(std::isnan(out[0]));
  auto wrong = check_candidate_output(out, kN, samples(), {}, kBound);
  ASSERT_TRUE(wrong) << "a candidate that wrote nothing passed";
  EXPECT_NE(wrong->find("unwritten"), std::string::npos) << *wrong;
  // ... and with a baseline as well.
  const auto baseline = right_output();
  EXPECT_TRUE(check_candidate_output(out, kN, samples(), baseline, kBound));
}

TEST(OutputCheck, AFirstCandidateThatComputesTheWrongThingIsRejected) {
  auto out = right_output();
  for (float& v : out) v *= 1.5f;  // e.g. alpha applied twice
  auto wrong = check_candidate_output(out, kN, samples(), {}, kBound);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("float64 reference"), std::string::npos) << *wrong;
}

TEST(OutputCheck, ARightOutputPassesAndALaterOneIsComparedWithTheFirstEverywhere) {
  const auto first = right_output();
  EXPECT_FALSE(check_candidate_output(first, kN, samples(), {}, kBound));
  // Wrong outside every sampled position: only the whole-output comparison sees it.
  auto later = first;
  std::set<long long> sampled;
  for (const auto& s : samples()) sampled.insert(s.row * kN + s.col);
  int changed = 0;
  for (long long i = 0; i < kM * kN && changed < 200; ++i)
    if (!sampled.count(i)) {
      later[i] = -later[i] + 1.0f;
      ++changed;
    }
  EXPECT_FALSE(check_candidate_output(later, kN, samples(), {}, kBound)) << "the samples alone miss it";
  auto wrong = check_candidate_output(later, kN, samples(), first, kBound);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("first candidate"), std::string::npos) << *wrong;
}

TEST(OutputCheck, SamplePositionsStartAtTheCornersAndAreDistinctAndStable) {
  const auto a = sample_positions(kM, kN, 64);
  ASSERT_EQ(a.size(), 64u);
  EXPECT_EQ(a[0].row, 0);
  EXPECT_EQ(a[1].col, kN - 1);
  EXPECT_EQ(a[3].row, kM - 1);
  EXPECT_EQ(a[3].col, kN - 1);
  std::set<std::pair<long long, long long>> distinct;
  for (const auto& s : a) distinct.emplace(s.row, s.col);
  EXPECT_EQ(distinct.size(), a.size());
  const auto b = sample_positions(kM, kN, 64);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].row == b[i].row && a[i].col == b[i].col);
  EXPECT_EQ(sample_positions(2, 3, 64).size(), 6u) << "a tiny output: every element";
}

TEST(OutputCheck, ASamplerErrorIsPassedOn) {
  auto s = reference_samples(4, 4, 8, [](long long, long long) -> Expected<double> {
    return make_error(ErrorCode::InvalidInput, "no such parameter");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "no such parameter");
}

}  // namespace
}  // namespace tilefuse::tune
