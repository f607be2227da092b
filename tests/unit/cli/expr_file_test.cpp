// --expr-file FILE / --expr-file -: the expression read from a file or from
// standard input, on every command that takes --expr; diagnostics that name
// the file; a long expression that no command-line argument can carry.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::contains;
using testing::describe;
using testing::lines_of;
using testing::run_cli;
using testing::TempDir;

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = (dir.path() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CliExprFile, EvalReadsTheExpressionFromAFile) {
  TempDir dir;
  const std::string file = write_file(dir, "quick_gelu.tf", "x*sigmoid(1.702*x)\n");
  const CliResult from_file = run_cli({"eval", "--expr-file", file, "--x", "1"});
  ASSERT_EQ(from_file.exit_code, 0) << describe(from_file);
  EXPECT_EQ(from_file.err, "");
  const CliResult from_argument = run_cli({"eval", "--expr", "x*sigmoid(1.702*x)", "--x", "1"});
  ASSERT_EQ(from_argument.exit_code, 0) << describe(from_argument);
  EXPECT_EQ(from_file.out, from_argument.out);
  EXPECT_EQ(from_file.out.rfind("0.8457957", 0), 0u) << from_file.out;
}

TEST(CliExprFile, AFileMaySpanLinesWithCommentsAndLetBindings) {
  TempDir dir;
  const std::string file =
      write_file(dir, "gelu.tf", "# QuickGELU, one step per line\nt = 1.702 * x\nx * sigmoid(t)\n");
  const CliResult r = run_cli({"eval", "--expr-file", file, "--x=-2,1"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const CliResult reference = run_cli({"eval", "--expr", "x*sigmoid(1.702*x)", "--x=-2,1"});
  ASSERT_EQ(reference.exit_code, 0) << describe(reference);
  EXPECT_EQ(r.out, reference.out);
}

TEST(CliExprFile, DashReadsStandardInput) {
  TempDir dir;
  const std::string input = write_file(dir, "stdin.tf", "relu(x) + 0.5 * x\n");
  const CliResult r = run_cli({"eval", "--expr-file", "-", "--x=-2,3"}, {}, input);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "-1\n4.5\n");
}

TEST(CliExprFile, SyntaxErrorNamesTheFileLineAndColumnWithTheCaret) {
  TempDir dir;
  const std::string file = write_file(dir, "broken.tf", "t = 2 * x\nx*(1+\n");
  const CliResult r = run_cli({"eval", "--expr-file", file, "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_EQ(lines[0].rfind("error: " + file + ":2:6: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1], "x*(1+");
  EXPECT_EQ(lines[2], "     ^");  // under column 6 of line 2
}

TEST(CliExprFile, NameResolutionErrorOnStandardInputIsNamedStdin) {
  TempDir dir;
  const std::string input = write_file(dir, "stdin.tf", "\nsigmod(x)\n");
  const CliResult r = run_cli({"eval", "--expr-file", "-", "--x", "1"}, {}, input);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "error: <stdin>:2:1: unknown function 'sigmod'")) << r.err;
}

TEST(CliExprFile, MissingFileExitsTwoNamingItAndTheReason) {
  TempDir dir;
  const std::string missing = (dir.path() / "no-such.tf").string();
  const CliResult r = run_cli({"eval", "--expr-file", missing, "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "--expr-file " + missing + ": cannot read the file")) << r.err;
  EXPECT_TRUE(contains(r.err, std::strerror(ENOENT))) << r.err;
}

TEST(CliExprFile, DirectoryIsNotAnExpressionFile) {
  TempDir dir;
  const CliResult r = run_cli({"eval", "--expr-file", dir.path().string(), "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "it is a directory")) << r.err;
}

TEST(CliExprFile, EmptyStandardInputIsRejected) {
  const CliResult r = run_cli({"eval", "--expr-file", "-", "--x", "1"});  // stdin: /dev/null
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "standard input holds no expression")) << r.err;
}

TEST(CliExprFile, ExprAndExprFileTogetherAreAUsageError) {
  TempDir dir;
  const std::string file = write_file(dir, "relu.tf", "relu(x)");
  const CliResult r = run_cli({"eval", "--expr", "x", "--expr-file", file, "--x", "1"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "--expr-file")) << r.err;
  EXPECT_TRUE(contains(r.err, "excludes")) << r.err;
}

TEST(CliExprFile, NeitherExprNorExprFileSaysHowToGiveOne) {
  const CliResult r = run_cli({"check"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "--expr is required")) << r.err;
  EXPECT_TRUE(contains(r.err, "--expr-file FILE")) << r.err;
}

TEST(CliExprFile, EmitAndCheckReadTheFile) {
  TempDir dir;
  const std::string file = write_file(dir, "gelu.tf", "gelu(x)\n");
  const CliResult emitted = run_cli({"emit", "--expr-file", file, "--stage", "ast"});
  ASSERT_EQ(emitted.exit_code, 0) << describe(emitted);
  const CliResult reference = run_cli({"emit", "--expr", "gelu(x)", "--stage", "ast"});
  ASSERT_EQ(reference.exit_code, 0) << describe(reference);
  EXPECT_EQ(emitted.out, reference.out);

  const CliResult checked = run_cli({"check", "--expr-file", file});
  ASSERT_EQ(checked.exit_code, 0) << describe(checked);
  EXPECT_TRUE(contains(checked.out, "result:         ok")) << checked.out;
}

// compile and tune stop at the expression before NVRTC or a GPU is involved:
// the error proves the file reached the parser and is named.
TEST(CliExprFile, CompileAndTuneReadTheFileAndNameItInDiagnostics) {
  TempDir dir;
  const std::string file = write_file(dir, "bad.tf", "x * (2 +\n");
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"compile", "--expr-file", file},
        std::vector<std::string>{"tune", "--simulate", "--shapes", "64x64x256", "--expr-file", file}}) {
    const CliResult r = run_cli(command, {{"TILEFUSE_CACHE_DIR", dir.path().string()}});
    EXPECT_EQ(r.exit_code, 2) << command[0] << ": " << describe(r);
    EXPECT_TRUE(contains(r.err, "error: " + file + ":1:")) << command[0] << ": " << r.err;
  }
}

/// A balanced sum of `terms` (a power of two) copies of x/8 — written three
/// ways, so the text is not one repeated token — whose value is exactly
/// terms/8 · x in float (every partial sum is a power of two times x/8).
std::string balanced_sum(int terms) {
  static const char* kLeaves[] = {"x*0.125", "0.125*x", "(x/8)"};
  if (terms == 1) return kLeaves[0];
  std::string text;
  int leaf = 0;
  auto build = [&](auto&& self, int n) -> void {
    if (n == 1) {
      text += kLeaves[leaf++ % 3];
      return;
    }
    text += '(';
    self(self, n / 2);
    text += '+';
    self(self, n / 2);
    text += ')';
  };
  build(build, terms);
  return text;
}

// Linux caps one argument at MAX_ARG_STRLEN = 32 pages = 128 KiB: such an
// expression cannot be passed as --expr at all, but a file has no limit.
TEST(CliExprFile, ExpressionLongerThanTheArgumentLimitWorksThroughAFile) {
  constexpr std::size_t kMaxArgStrlen = 128 * 1024;
  constexpr int kTerms = 1 << 14;
  const std::string expr = balanced_sum(kTerms);
  ASSERT_GT(expr.size(), kMaxArgStrlen);

  TempDir dir;
  const std::string file = write_file(dir, "long.tf", expr + "\n");
  const CliResult r = run_cli({"eval", "--expr-file", file, "--x=1,-2"});
  ASSERT_EQ(r.exit_code, 0) << describe(r).substr(0, 4000);
  EXPECT_EQ(r.out, "2048\n-4096\n");  // 16384 · x/8

  // The same text as an argument does not even reach tilefuse (E2BIG from exec).
  const CliResult as_argument = run_cli({"eval", "--expr", expr, "--x", "1"});
  EXPECT_EQ(as_argument.exit_code, -1);
  EXPECT_TRUE(contains(as_argument.err, std::strerror(E2BIG))) << as_argument.err.substr(0, 500);
}

}  // namespace
}  // namespace tilefuse::cli
