// Reading ptxas -v logs and counting PTX instructions.
#include <gtest/gtest.h>

#include "runtime/PtxInstructions.h"
#include "runtime/PtxasLog.h"

namespace tilefuse::runtime {
namespace {

TEST(PtxasLog, ParsesEveryFunctionBlock) {
  const char* log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Function properties for helper\n"
      "ptxas         .     16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Compiling entry function '_Z4gemmILi128EEvPf' for 'sm_90a'\n"
      "ptxas info    : Function properties for _Z4gemmILi128EEvPf\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 1 barriers, 49152 bytes smem, 400 bytes "
      "cmem[0]\n"
      "ptxas info    : Compiling entry function 'tf_elementwise' for 'sm_90a'\n"
      "ptxas info    : Function properties for tf_elementwise\n"
      "ptxas         .     0 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n"
      "ptxas info    : Used 31 registers, used 0 barriers, 388 bytes cmem[0]\n"
      "ptxas info    : Compile time = 33.198 ms\n";
  const auto r = parse_ptxas_log(log);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (KernelResources{"helper", 0, 20, 0, 16}));
  EXPECT_EQ(r[1], (KernelResources{"_Z4gemmILi128EEvPf", 168, 0, 49152, 0}));
  EXPECT_EQ(r[2], (KernelResources{"tf_elementwise", 31, 8, 0, 0}));
}

TEST(PtxasLog, EmptyOrForeignLogGivesNothing) {
  EXPECT_TRUE(parse_ptxas_log("").empty());
  EXPECT_TRUE(parse_ptxas_log("Used 3 registers\nwarning: something\n").empty());
}

TEST(PtxasLog, PerformanceLossRemarksAreCollectedWithoutThePrefix) {
  // The remark ptxas printed for an sm_90a kernel whose k-step loop was rolled
  // (measured 2026-11-22; that template change was rejected because of it).
  const char* log =
      "ptxas info    : (C7520) Potential Performance Loss: wgmma.mma_async instructions are "
      "serialized due to program dependence on compiler-inserted WG.AR in divergent path in "
      "the function 'tf_gemm'\n"
      "ptxas info    : 143 bytes gmem\n"
      "ptxas info    : Compiling entry function 'tf_gemm' for 'sm_90a'\n"
      "ptxas info    : Used 168 registers, used 1 barriers\n";
  const auto warnings = parse_ptxas_performance_warnings(log);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("(C7520) Potential Performance Loss: wgmma.mma_async", 0), 0u) << warnings[0];
  EXPECT_NE(warnings[0].find("'tf_gemm'"), std::string::npos);
  EXPECT_TRUE(parse_ptxas_performance_warnings("ptxas info    : Used 168 registers\n").empty());
}

TEST(PtxInstructions, CountsOpcodesNotOperandsOrComments) {
  const char* ptx =
      "//\n// mma.sync.aligned in a comment does not count\n"
      ".visible .entry k(\n"
      "\tmma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f1}, {%r1}, {%r2}, {%f2};\n"
      "\t@%p1 mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f1}, {%r1}, {%r2}, {%f2};\n"
      "\twgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%f1}, %rd1, %rd2, 1, 1, 1, 1;\n"
      "\twgmma.fence.sync.aligned;\n"
      "\tldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r1, %r2, %r3, %r4}, [%r5];\n"
      "\tcp.async.cg.shared.global [%r1], [%rd1], 16;\n"
      "\tcp.async.ca.shared.global [%r1], [%rd1], 4;\n"
      "\tcp.async.commit_group;\n"
      "\tcp.async.wait_group 0;\n"
      "\tcp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%r1], "
      "[%rd1, {%r2, %r3}], [%r4];\n"
      "\t@!%p2 ld.local.u32 %r1, [%rd9];\n"
      "\tst.local.u32 [%rd9], %r1;\n"
      "\tst.local.v2.f32 [%rd9], {%f1, %f2};\n"
      "\tsetmaxnreg.inc.sync.aligned.u32 240;\n"
      "\tld.global.f32 %f1, [%rd1];\n"
      "\tmma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32 {%f1, %f2, %f3, %f4}, {%r1, %r2, %r3, %r4}, "
      "{%r5, %r6}, {%f1, %f2, %f3, %f4};\n"
      "\tcvt.rn.satfinite.e4m3x2.f32 %rs1, %f2, %f1;\n";
  const auto c = count_ptx_instructions(ptx);
  EXPECT_EQ(c.at("mma_sync"), 3);
  EXPECT_EQ(c.at("mma_sync_fp8"), 1);
  EXPECT_EQ(c.at("cvt_e4m3"), 1);
  EXPECT_EQ(c.at("wgmma"), 1);
  EXPECT_EQ(c.at("ldmatrix"), 1);
  EXPECT_EQ(c.at("cp_async"), 2);
  EXPECT_EQ(c.at("cp_async_bulk_tensor"), 1);
  EXPECT_EQ(c.at("ld_local"), 1);
  EXPECT_EQ(c.at("st_local"), 2);
  EXPECT_EQ(c.at("setmaxnreg"), 1);
  EXPECT_EQ(c.size(), 10u);
}

TEST(PtxInstructions, AllKeysPresentWhenNothingMatches) {
  const auto c = count_ptx_instructions("\tret;\n");
  for (const char* key : {"mma_sync", "mma_sync_fp8", "cvt_e4m3", "wgmma", "ldmatrix", "cp_async",
                          "cp_async_bulk_tensor", "ld_local", "st_local", "setmaxnreg"})
    EXPECT_EQ(c.at(key), 0) << key;
}

}  // namespace
}  // namespace tilefuse::runtime
