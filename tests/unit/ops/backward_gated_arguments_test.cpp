// The gated training path (issue 8) on the host: a gated forward with aux
// stores [gate | up] (M x 2N), the gated backward reads it and writes
// [dgate | dup] (M x 2N). Leading dimensions default to 2N and narrower ones
// are rejected with a message naming 2N; the gated forward with aux is
// accepted on the mma.sync targets and Unsupported on sm_90a.
#include <gtest/gtest.h>

#include <stdlib.h>

#include "runtime/ops/GemmArguments.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

MatmulArgs gated_forward_args(long long m, long long n, long long k) {
  MatmulArgs args;
  args.a = fake(0x100000);
  args.b = fake(0x200000);
  args.b_up = fake(0x280000);
  args.d = fake_out(0x300000);
  args.aux = fake_out(0x400000);
  args.shape = {m, n, k};
  return args;
}

void expect_error(const Expected<GemmParams>& result, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(result) << "expected an error mentioning '" << needle << "'";
  EXPECT_EQ(result.error().code, code) << result.error().message;
  EXPECT_NE(result.error().message.find(needle), std::string::npos) << result.error().message;
}

TEST(GatedTrainingArguments, ForwardAuxHoldsGateAndUpSideBySide) {
  GemmOperands forward;
  forward.gated = forward.aux = true;
  MatmulArgs args = gated_forward_args(100, 64, 40);
  args.batch = 3;
  auto p = make_gemm_params(forward, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ldd, 64);                   // D stays M x N
  EXPECT_EQ(p->ld_aux, 128);               // aux = [gate | up]
  EXPECT_EQ(p->batch_stride_aux, 100 * 128);
  args.ld_aux = 136;
  p = make_gemm_params(forward, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ld_aux, 136);

  args.ld_aux = 64;  // N: room for gate only
  expect_error(make_gemm_params(forward, args), ErrorCode::InvalidInput, "ld_aux = 64 is smaller than 2N = [gate | up] (128)");
  args.ld_aux = 132;  // >= 2N but not a multiple of 8
  expect_error(make_gemm_params(forward, args), ErrorCode::Unsupported, "ld_aux = 132 is not a multiple of 8");
  // N = 36 is not a multiple of 8: D needs a padded ldd, the packed aux row (2N = 72) does not.
  args = gated_forward_args(10, 36, 16);
  args.ldd = args.ldb = 40;
  p = make_gemm_params(forward, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ld_aux, 72);
}

TEST(GatedTrainingArguments, BackwardReadsGateAndUpAndWritesDgateAndDup) {
  GemmOperands backward;
  backward.aux = backward.gated_backward = true;
  MatmulArgs args;
  args.a = fake(0x100000);
  args.b = fake(0x200000);
  args.d = fake_out(0x300000);
  args.aux = fake_out(0x400000);
  args.shape = {100, 64, 40};
  args.alpha = 2.0f;
  args.batch = 2;
  auto p = make_gemm_params(backward, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ldd, 128);  // D = [dgate | dup]
  EXPECT_EQ(p->ld_aux, 128);
  EXPECT_EQ(p->batch_stride_d, 100 * 128);
  EXPECT_EQ(p->batch_stride_aux, 100 * 128);
  EXPECT_EQ(p->alpha, 2.0f);

  args.ldd = 64;
  expect_error(make_gemm_params(backward, args), ErrorCode::InvalidInput, "ldd = 64 is smaller than 2N = [dgate | dup] (128)");
  args.ldd = 0;
  args.ld_aux = 120;
  expect_error(make_gemm_params(backward, args), ErrorCode::InvalidInput, "ld_aux = 120 is smaller than 2N = [gate | up]");
  args.ld_aux = 0;
  args.b_up = fake(0x280000);  // one weight operand only
  expect_error(make_gemm_params(backward, args), ErrorCode::InvalidInput, "b_up");
}

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

TEST(GatedTrainingOptions, ForwardWithAuxIsAcceptedOnMmaSyncTargetsOnly) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  auto op = rt.matmul({.activation = "swiglu(gate, up)", .aux = true});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_TRUE(op->gated());
  // A launch checks the [gate | up] aux before it looks for the device.
  MatmulArgs args = gated_forward_args(128, 256, 64);
  args.ld_aux = 256;
  auto narrow = (*op)(nullptr, args, Params{});
  ASSERT_FALSE(narrow);
  EXPECT_NE(narrow.error().message.find("2N = [gate | up]"), std::string::npos) << narrow.error().message;
  args.ld_aux = 0;
  auto launched = (*op)(nullptr, args, Params{});
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << launched.error().message;

  // sm_90a: the wgmma kernel has no aux store; asked for up front or found at launch.
  auto forced = rt.matmul({.activation = "swiglu(gate, up)", .aux = true, .arch = Arch::Sm90a});
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code, ErrorCode::Unsupported);
  EXPECT_NE(forced.error().message.find("sm_90a"), std::string::npos) << forced.error().message;
  EXPECT_NE(forced.error().message.find("force Arch::Sm90"), std::string::npos)
      << "the message must lead to a kernel that works: " << forced.error().message;
  auto on_sm90 = op->compile({4096, 4096, 4096}, Arch::Sm90a);
  ASSERT_FALSE(on_sm90);
  EXPECT_EQ(on_sm90.error().code, ErrorCode::Unsupported);
  EXPECT_NE(on_sm90.error().message.find("does not store aux"), std::string::npos) << on_sm90.error().message;
  // ... which the plain sm_90 target (the mma.sync kernel on Hopper) does: what
  // the message recommends compiles, without spills.
  auto on_mma_sync = op->compile({4096, 4096, 4096}, Arch::Sm90);
  ASSERT_TRUE(on_mma_sync) << on_mma_sync.error().message;
  EXPECT_EQ(on_mma_sync->arch, "sm_90");
  EXPECT_EQ(on_mma_sync->spill_bytes, 0);
  auto forced_sm90 = rt.matmul({.activation = "swiglu(gate, up)", .aux = true, .arch = Arch::Sm90});
  EXPECT_TRUE(forced_sm90) << forced_sm90.error().message;

  const Shape shapes[] = {{256, 256, 256}};
  auto tuned = rt.tune(*op, shapes, {.simulate = true, .arch = Arch::Sm90a});
  ASSERT_FALSE(tuned);
  EXPECT_EQ(tuned.error().code, ErrorCode::Unsupported);
  EXPECT_NE(tuned.error().message.find("tune it for Arch::Sm90"), std::string::npos) << tuned.error().message;

  // bias and residual stay rejected for a gated op.
  auto bias = rt.matmul({.activation = "swiglu(gate, up)", .bias = true, .aux = true});
  ASSERT_FALSE(bias);
  EXPECT_EQ(bias.error().code, ErrorCode::InvalidInput);
}

TEST(GatedTrainingOptions, ForwardWithAuxCompilesForSm80WithoutSpills) {
  Runtime rt = memory_runtime();
  auto op = rt.matmul({.activation = "geglu", .aux = true, .b_col_major = true});
  ASSERT_TRUE(op) << op.error().message;
  auto info = op->compile({4096, 4096, 4096}, Arch::Sm80);
  ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail.substr(0, 3000);
  EXPECT_EQ(info->spill_bytes, 0);
  EXPECT_GT(info->ptx_instructions.at("mma_sync"), 0);
}

}  // namespace
}  // namespace tilefuse::ops
