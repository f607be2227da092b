// --grouped contiguous|masked on emit and compile (issue 15): the kernel
// source defines TF_GEMM_GROUPED, and bad uses exit 2 with the reason.
#include <gtest/gtest.h>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::contains;
using testing::describe;
using testing::run_cli;

TEST(CliGrouped, EmitKernelDefinesTheLayoutBeforeTheTemplate) {
  const CliResult masked = run_cli({"emit", "--expr", "silu(gate)*up", "--grouped", "masked", "--stage", "kernel"});
  ASSERT_EQ(masked.exit_code, 0) << describe(masked);
  const auto define = masked.out.find("#define TF_GEMM_GROUPED 2");
  ASSERT_NE(define, std::string::npos) << masked.out;
  EXPECT_LT(define, masked.out.find("#include \"tilefuse/gemm_sm80.cuh\"")) << masked.out;
  const CliResult contiguous = run_cli({"emit", "--expr", "gelu(x)", "--grouped", "contiguous", "--stage", "kernel"});
  ASSERT_EQ(contiguous.exit_code, 0) << describe(contiguous);
  EXPECT_TRUE(contains(contiguous.out, "#define TF_GEMM_GROUPED 1")) << contiguous.out;
  const CliResult plain = run_cli({"emit", "--expr", "gelu(x)", "--stage", "kernel"});
  ASSERT_EQ(plain.exit_code, 0) << describe(plain);
  EXPECT_FALSE(contains(plain.out, "TF_GEMM_GROUPED")) << plain.out;
}

TEST(CliGrouped, BadUsesExitTwoWithTheReason) {
  const CliResult unknown = run_cli({"compile", "--expr", "gelu(x)", "--grouped", "sorted"});
  EXPECT_EQ(unknown.exit_code, 2) << describe(unknown);
  EXPECT_TRUE(contains(unknown.err, "--grouped")) << unknown.err;
  const CliResult elementwise =
      run_cli({"compile", "--expr", "gelu(x)", "--grouped", "masked", "--kernel", "elementwise"});
  EXPECT_EQ(elementwise.exit_code, 2) << describe(elementwise);
  EXPECT_TRUE(contains(elementwise.err, "use --kernel gemm")) << elementwise.err;
  const CliResult wgmma = run_cli({"compile", "--expr", "gelu(x)", "--grouped", "masked", "--arch", "sm_90a"});
  EXPECT_EQ(wgmma.exit_code, 2) << describe(wgmma);
  EXPECT_TRUE(contains(wgmma.err, "--arch sm_90")) << wgmma.err;
}

}  // namespace
}  // namespace tilefuse::cli
