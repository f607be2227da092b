// `tilefuse eval --grad` and `tilefuse emit --grad`: derivatives printed per
// input (gated: "dgate dup" per line), the differentiated IR and CUDA.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <numbers>
#include <sstream>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::contains;
using testing::describe;
using testing::lines_of;
using testing::run_cli;

/// Each line split into the floats it holds.
std::vector<std::vector<double>> printed_rows(const std::string& out) {
  std::vector<std::vector<double>> rows;
  for (const auto& line : lines_of(out)) {
    std::istringstream in(line);
    std::vector<double> row;
    std::string word;
    while (in >> word) row.push_back(std::strtod(word.c_str(), nullptr));
    rows.push_back(row);
  }
  return rows;
}

double Phi(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }
double sigma(double x) { return 1 / (1 + std::exp(-x)); }

TEST(EvalGrad, PrintsTheDerivativePerInput) {
  const CliResult r = run_cli({"eval", "--expr", "gelu(x)", "--grad", "--x", "-2,0,1.5"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto rows = printed_rows(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  const double xs[] = {-2, 0, 1.5};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(rows[i].size(), 1u);
    EXPECT_NEAR(rows[i][0], Phi(xs[i]) + xs[i] * phi(xs[i]), 1e-6) << "x = " << xs[i];
  }
}

TEST(EvalGrad, SpecialValuesAndTheKinkConvention) {
  const CliResult r = run_cli({"eval", "--expr", "relu(x)", "--grad", "--x", "-1,0,2,inf,nan"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(lines_of(r.out), (std::vector<std::string>{"0", "0", "1", "1", "nan"}));
}

TEST(EvalGrad, GatedPrintsDgateAndDupPerLine) {
  const CliResult r = run_cli({"eval", "--expr", "swiglu(gate, up)", "--grad", "--gate", "0.5,-2", "--up", "3,0.25"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto rows = printed_rows(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  const double gates[] = {0.5, -2}, ups[] = {3, 0.25};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(rows[i].size(), 2u) << lines_of(r.out)[i];
    const double g = gates[i], u = ups[i];
    EXPECT_NEAR(rows[i][0], sigma(g) * (1 + g * (1 - sigma(g))) * u, 1e-6);
    EXPECT_NEAR(rows[i][1], g * sigma(g), 1e-6);
  }
}

TEST(EvalGrad, ParametersAndTheirErrors) {
  const CliResult ok = run_cli({"eval", "--expr", "leaky_relu(x, a)", "--grad", "--param", "a=0.2", "--x", "-1,0,1"});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(lines_of(ok.out), (std::vector<std::string>{"0.200000003", "0.200000003", "1"}));
  const CliResult missing = run_cli({"eval", "--expr", "leaky_relu(x, a)", "--grad", "--x", "1"});
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
  EXPECT_TRUE(contains(missing.err, "missing value for parameter 'a'")) << missing.err;
}

TEST(EmitGrad, ShowsTheDifferentiatedIrAndCuda) {
  const CliResult r = run_cli({"emit", "--expr", "silu(x)", "--grad"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "// ===== differentiated IR")) << r.out;
  EXPECT_TRUE(contains(r.out, "grad_wrt = \"x\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "// ===== cuda =====")) << r.out;
  EXPECT_TRUE(contains(r.out, "#define TF_EPILOGUE_GRAD 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "tf_epilogue(const float (&dy)[TF_EPILOGUE_VEC],")) << r.out;
}

TEST(EmitGrad, GatedCudaHasBothPartials) {
  const CliResult r = run_cli({"emit", "--expr", "swiglu(gate, up)", "--grad", "--stage", "cuda"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "tf_epilogue_dgate(const float (&dy)[TF_EPILOGUE_VEC],")) << r.out;
  EXPECT_TRUE(contains(r.out, "tf_epilogue_dup(const float (&dy)[TF_EPILOGUE_VEC],")) << r.out;
  EXPECT_FALSE(contains(r.out, "// ===== differentiated IR")) << "an explicit --stage prints that stage only";
  // The declarations appear once.
  const auto first = r.out.find("struct TfEpilogueParams");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(r.out.find("struct TfEpilogueParams", first + 1), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tilefuse::cli
