// `tilefuse eval`: values printed for plain and gated expressions, special
// inputs, and the exact diagnostics (exit 2) for the user's mistakes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::lines_of;
using testing::run_cli;
using testing::describe;
using testing::contains;

// Distance in units in the last place between two finite floats of the same sign.
int64_t ulp_distance(float a, float b) {
  int32_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::llabs(int64_t{ia} - int64_t{ib});
}

// Each printed line parsed as a float; ADD_FAILURE for a line that is not one.
std::vector<float> printed_values(const std::string& out) {
  std::vector<float> values;
  for (const auto& line : lines_of(out)) {
    char* end = nullptr;
    const float v = std::strtof(line.c_str(), &end);
    if (end == line.c_str() || *end != '\0') ADD_FAILURE() << "not a number: '" << line << "'";
    values.push_back(v);
  }
  return values;
}

TEST(CliEval, QuickGeluAtOneMatchesTheFloat64FormulaToOneUlp) {
  const CliResult r = run_cli({"eval", "--expr", "x*sigmoid(1.702*x)", "--x", "1"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  const auto values = printed_values(r.out);
  ASSERT_EQ(values.size(), 1u) << r.out;
  const float reference = static_cast<float>(1.0 / (1.0 + std::exp(-1.702)));
  EXPECT_LE(ulp_distance(values[0], reference), 1) << values[0] << " vs " << reference;
  // The number the issue quotes, to the same tolerance.
  EXPECT_LE(ulp_distance(values[0], 0.845795751f), 1) << r.out;
}

TEST(CliEval, SeveralValuesGiveOneLineEachInOrder) {
  const CliResult r = run_cli({"eval", "--expr", "relu(x) + 0.5 * x", "--x", "-2, 0, 3.5,1e-3"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto values = printed_values(r.out);
  ASSERT_EQ(values.size(), 4u) << r.out;
  EXPECT_EQ(values[0], -1.0f);
  EXPECT_EQ(values[1], 0.0f);
  EXPECT_EQ(values[2], 5.25f);
  EXPECT_LE(ulp_distance(values[3], 1.5e-3f), 1) << values[3];
}

TEST(CliEval, InfinityAndNanInputsFollowTheFormula) {
  // silu(-inf) = -0, silu(+inf) = +inf, NaN propagates.
  const CliResult r = run_cli({"eval", "--expr", "silu(x)", "--x", "-inf,inf,+inf,nan"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto values = printed_values(r.out);
  ASSERT_EQ(values.size(), 4u) << r.out;
  EXPECT_EQ(values[0], 0.0f);
  EXPECT_TRUE(std::signbit(values[0])) << "silu(-inf) must be -0, got " << lines_of(r.out)[0];
  EXPECT_EQ(values[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[2], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(values[3])) << r.out;
}

TEST(CliEval, GatedExpressionTakesGateAndUp) {
  const CliResult r =
      run_cli({"eval", "--expr", "silu(gate) * up", "--gate", "1,-1,0,nan", "--up", "2,3,5,1"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto values = printed_values(r.out);
  ASSERT_EQ(values.size(), 4u) << r.out;
  auto silu = [](double g) { return g / (1.0 + std::exp(-g)); };
  EXPECT_LE(ulp_distance(values[0], static_cast<float>(silu(1.0) * 2)), 2) << values[0];
  EXPECT_LE(ulp_distance(values[1], static_cast<float>(silu(-1.0) * 3)), 2) << values[1];
  EXPECT_EQ(values[2], 0.0f);
  EXPECT_TRUE(std::isnan(values[3]));
}

TEST(CliEval, RuntimeParameterIsUsed) {
  const CliResult r =
      run_cli({"eval", "--expr", "leaky_relu(x, a)", "--param", "a=0.25", "--x", "-4,2"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto values = printed_values(r.out);
  ASSERT_EQ(values.size(), 2u) << r.out;
  EXPECT_EQ(values[0], -1.0f);
  EXPECT_EQ(values[1], 2.0f);
}

TEST(CliEval, SyntaxErrorShowsPositionSourceLineAndCaret) {
  const CliResult r = run_cli({"eval", "--expr", "x*(1+", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_EQ(lines[0].rfind("error: 1:6: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1], "x*(1+");
  EXPECT_EQ(lines[2], "     ^");  // under column 6
}

TEST(CliEval, MissingParameterValueIsNamed) {
  const CliResult r = run_cli({"eval", "--expr", "leaky_relu(x, a)", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("'a'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--param a="), std::string::npos) << "must say how to fix it: " << r.err;
}

TEST(CliEval, ParameterTheExpressionDoesNotHaveIsRejected) {
  const CliResult r = run_cli({"eval", "--expr", "gelu", "--param", "b=1", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("no parameter 'b'"), std::string::npos) << r.err;
}

TEST(CliEval, UnknownFunctionSuggestsTheClosestName) {
  const CliResult r = run_cli({"eval", "--expr", "sigmod(x)", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("error: 1:1: unknown function 'sigmod'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'sigmoid'?"), std::string::npos) << r.err;
}

TEST(CliEval, ValueThatIsNotANumberIsRejectedNamingTheOption) {
  for (const char* bad : {"abc", "1,,2", "1.5x", ""}) {
    const CliResult r = run_cli({"eval", "--expr", "x", "--x", bad});
    EXPECT_EQ(r.exit_code, 2) << "--x '" << bad << "'\n" << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("--x"), std::string::npos) << r.err;
  }
}

TEST(CliEval, GatedExpressionNeedsEqualGateAndUp) {
  const CliResult unequal =
      run_cli({"eval", "--expr", "silu(gate) * up", "--gate", "1,2", "--up", "1"});
  EXPECT_EQ(unequal.exit_code, 2) << describe(unequal);
  EXPECT_NE(unequal.err.find("--gate has 2 values but --up has 1"), std::string::npos)
      << unequal.err;

  const CliResult x_for_gated = run_cli({"eval", "--expr", "silu(gate) * up", "--x", "1"});
  EXPECT_EQ(x_for_gated.exit_code, 2) << describe(x_for_gated);
  EXPECT_NE(x_for_gated.err.find("--gate"), std::string::npos) << x_for_gated.err;

  const CliResult gate_for_plain = run_cli({"eval", "--expr", "gelu", "--gate", "1", "--up", "1"});
  EXPECT_EQ(gate_for_plain.exit_code, 2) << describe(gate_for_plain);
  EXPECT_NE(gate_for_plain.err.find("--x"), std::string::npos) << gate_for_plain.err;
}

}  // namespace
}  // namespace tilefuse::cli
