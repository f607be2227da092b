// The FP8 flags of the tilefuse tool (issue 16): --dtype e4m3, --b-dtype,
// --out-dtype e4m3, --scale, --amax reach the kernel source; what an FP8
// kernel cannot be exits 2 with the fix.
#include <gtest/gtest.h>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::contains;
using testing::describe;
using testing::run_cli;

TEST(CliFp8, EmitKernelCarriesTheFp8Configuration) {
  const CliResult r = run_cli({"emit", "--stage", "kernel", "--expr", "gelu(x)", "--arch", "sm_89", "--dtype", "e4m3",
                               "--b-dtype", "e5m2", "--out-dtype", "e4m3", "--scale", "block128", "--amax"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "#define TF_GEMM_FP8 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "kBE5M2 = true, kBlock128 = true, kOutE4M3 = true, kAmax = true")) << r.out;
  // The epilogue of an e4m3 output yields fp32 (the template quantises).
  EXPECT_TRUE(contains(r.out, "#define TF_EPILOGUE_OUT_BYTES 4")) << r.out;

  const CliResult plain = run_cli({"emit", "--stage", "kernel", "--expr", "gelu(x)", "--dtype", "bf16"});
  ASSERT_EQ(plain.exit_code, 0) << describe(plain);
  EXPECT_FALSE(contains(plain.out, "TF_GEMM_FP8")) << plain.out;
}

TEST(CliFp8, WhatAnFp8KernelCannotBeExitsTwoWithTheFix) {
  const CliResult sm80 = run_cli({"compile", "--expr", "x", "--dtype", "e4m3", "--b-col-major", "--arch", "sm_80"});
  EXPECT_EQ(sm80.exit_code, 2) << describe(sm80);
  EXPECT_TRUE(contains(sm80.err, "sm_89 Ada or sm_90 Hopper")) << sm80.err;

  const CliResult row_major = run_cli({"compile", "--expr", "x", "--dtype", "e4m3", "--arch", "sm_89"});
  EXPECT_EQ(row_major.exit_code, 2) << describe(row_major);
  EXPECT_TRUE(contains(row_major.err, "pass B as N x K (b_col_major = true)")) << row_major.err;

  const CliResult scale = run_cli({"emit", "--expr", "x", "--dtype", "e4m3", "--scale", "block64"});
  EXPECT_EQ(scale.exit_code, 2) << describe(scale);
  EXPECT_TRUE(contains(scale.err, "per-tensor or block128")) << scale.err;

  const CliResult e5m2_a = run_cli({"emit", "--expr", "x", "--dtype", "e5m2"});
  EXPECT_EQ(e5m2_a.exit_code, 2) << describe(e5m2_a);
  EXPECT_TRUE(contains(e5m2_a.err, "e5m2 is for B only")) << e5m2_a.err;
}

}  // namespace
}  // namespace tilefuse::cli
