// Usage errors (exit 2 with a usage message), --help/--version, and
// `tilefuse check`.
#include <gtest/gtest.h>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::run_cli;
using testing::describe;
using testing::contains;

TEST(CliUsage, NoSubcommandExitsTwo) {
  const CliResult r = run_cli({});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "subcommand is required")) << r.err;
}

TEST(CliUsage, UnknownSubcommandExitsTwo) {
  // CLI11 reports a mistyped subcommand as a missing one (it does not name
  // "frobnicate"); what matters here is the usage exit code and no output.
  const CliResult r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "--help")) << r.err;
}

TEST(CliUsage, UnknownFlagExitsTwoNamingIt) {
  const CliResult r = run_cli({"eval", "--expr", "x", "--x", "1", "--bogus"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "--bogus")) << r.err;
}

TEST(CliUsage, MissingRequiredExpressionExitsTwo) {
  const CliResult r = run_cli({"emit"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "--expr is required")) << r.err;
}

TEST(CliUsage, OptionWithoutItsValueExitsTwo) {
  const CliResult r = run_cli({"eval", "--expr"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "--expr")) << r.err;
}

TEST(CliUsage, HelpListsEverySubcommandAndExitsZero) {
  const CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  for (const char* sub : {"emit", "eval", "check", "compile", "cache"})
    EXPECT_TRUE(contains(r.out, sub)) << "help lacks " << sub << "\n" << r.out;
}

TEST(CliUsage, VersionPrintsTheProjectVersion) {
  const CliResult r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "tilefuse 0.")) << r.out;
}

TEST(CliCheck, GeluHasNoViolationsInPreciseMode) {
  const CliResult r = run_cli({"check", "--expr", "gelu"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "violations:     0\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "result:         ok")) << r.out;
  EXPECT_TRUE(contains(r.out, "mode:           precise")) << r.out;
}

TEST(CliCheck, GatedExpressionInFastModePasses) {
  const CliResult r = run_cli({"check", "--expr", "silu(gate) * up", "--mode", "fast"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "violations:     0\n")) << r.out;
}

TEST(CliCheck, ABoundTighterThanFloatCanMeetReportsViolationsAndFails) {
  // 1e-12 relative is far below float's 6e-8 epsilon: the check must notice.
  const CliResult r = run_cli({"check", "--expr", "gelu", "--rel", "1e-12", "--abs", "1e-15"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_FALSE(contains(r.out, "violations:     0\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "first:")) << r.out;
}

TEST(CliCheck, MissingParameterExitsTwoNamingIt) {
  const CliResult r = run_cli({"check", "--expr", "elu(x, alpha)"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "alpha")) << r.err;
}

}  // namespace
}  // namespace tilefuse::cli
