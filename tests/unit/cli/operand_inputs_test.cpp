// --row / --col on eval, emit and check: declarations, values, and errors.
#include <gtest/gtest.h>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::contains;
using testing::describe;
using testing::run_cli;

TEST(CliOperandInputs, EvalMultipliesByTheRowAndColumnValues) {
  const CliResult r = run_cli({"eval", "--row", "route=0.5", "--col", "s=2,3", "--expr", "x*route*s", "--x", "1,2"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "1\n3\n");
}

TEST(CliOperandInputs, EvalGeluOfScaledXTimesRoute) {
  const CliResult r =
      run_cli({"eval", "--row", "route=0.5", "--col", "s=2", "--expr", "gelu(x * s) * route", "--x", "1,-1"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // 0.5 * gelu(±2): 0.97724987, -0.02275013 (float64).
  EXPECT_EQ(r.out, "0.977249861\n-0.0227501336\n");
}

TEST(CliOperandInputs, EvalWithoutAValueNamesTheFlag) {
  const CliResult r = run_cli({"eval", "--row", "route", "--expr", "x*route", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "missing value for row input 'route'; pass it with --row route=VALUE")) << r.err;
}

TEST(CliOperandInputs, EvalRejectsAValueListOfTheWrongLength) {
  const CliResult r = run_cli({"eval", "--col", "s=1,2,3", "--expr", "x*s", "--x", "1,2"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "--col s has 3 values for 2 points")) << r.err;
}

TEST(CliOperandInputs, ACollidingDeclarationIsAPositionedError) {
  const CliResult r = run_cli({"eval", "--row", "x", "--expr", "x*2", "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "1:1: row_inputs entry 'x' collides with the accumulator input 'x'")) << r.err;
}

TEST(CliOperandInputs, AnUnusedDeclarationIsAnError) {
  const CliResult r = run_cli({"eval", "--row", "route=1", "--expr", "x*rout", "--x", "1", "--param", "rout=1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "row input 'route' is declared (row_inputs) but the activation never reads it")) << r.err;
}

TEST(CliOperandInputs, EmitTakesDeclarationsWithoutValues) {
  const CliResult r = run_cli({"emit", "--row", "route", "--col", "s", "--expr", "gelu(x * s) * route"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "const TfEpilogueOperands& operands)")) << r.out;
  EXPECT_TRUE(contains(r.out, "// [0] \"route\"")) << r.out;
}

TEST(CliOperandInputs, CheckSweepsXAtTheGivenValues) {
  const CliResult r = run_cli({"check", "--row", "route=0.25", "--col", "s=0.5", "--expr", "gelu(x * s) * route"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "result:         ok")) << r.out;
  // The values are used: s = 1.5 overflows fp32 at the largest swept x,
  // exactly as the constant expression does.
  const CliResult scaled = run_cli({"check", "--row", "route=0.5", "--col", "s=1.5", "--expr", "gelu(x * s) * route"});
  const CliResult constant = run_cli({"check", "--expr", "gelu(x * 1.5) * 0.5"});
  EXPECT_EQ(scaled.exit_code, 1) << describe(scaled);
  EXPECT_TRUE(contains(scaled.out, "first:          x=3.38953139e+38: got inf")) << scaled.out;
  EXPECT_EQ(scaled.out.substr(scaled.out.find("points:")), constant.out.substr(constant.out.find("points:")));
  const CliResult missing = run_cli({"check", "--row", "route", "--expr", "x * route"});
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
  EXPECT_TRUE(contains(missing.err, "missing value for row input 'route'; pass it with --row route=VALUE"))
      << missing.err;
}

}  // namespace
}  // namespace tilefuse::cli
