// Runtime::matmul_backward on a machine without a CUDA driver: options are
// checked up front, the backward GEMM (single and gated) compiles for sm_80
// and sm_90a (the mma.sync driver, 0 spills), and a launch gets as far as the
// device (NoDevice) after checking that z (args.aux; gated: [gate | up]) is given.
#include <gtest/gtest.h>

#include <stdlib.h>

#include "compiler/Target/TargetInfo.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }
const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

TEST(MatmulBackward, CompilesOnSm80AndSm90aWithTheMmaSyncDriver) {
  Runtime rt = memory_runtime();
  auto op = rt.matmul_backward({.activation = "gelu(x)", .b_col_major = true});
  ASSERT_TRUE(op) << op.error().message;
  for (Arch arch : {Arch::Sm80, Arch::Sm90a}) {
    auto info = op->compile({4096, 4096, 4096}, arch);
    ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail.substr(0, 3000);
    EXPECT_EQ(info->tile, compiler::make_target(Arch::Sm80)->default_tile(4096, 4096, 4096));
    EXPECT_EQ(info->spill_bytes, 0) << compiler::to_string(arch);
    EXPECT_GT(info->ptx_instructions.at("mma_sync"), 0);
  }
}

TEST(MatmulBackward, GatedCompilesOnSm80AndSm90aWithTheMmaSyncDriver) {
  Runtime rt = memory_runtime();
  auto op = rt.matmul_backward({.activation = "swiglu(gate, up)", .b_col_major = true});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_FALSE(op->gated());  // one weight operand: dH = alpha·A·B
  for (Arch arch : {Arch::Sm80, Arch::Sm90a}) {
    auto info = op->compile({4096, 2048, 4096}, arch);
    ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail.substr(0, 3000);
    EXPECT_EQ(info->tile, compiler::make_target(Arch::Sm80)->default_tile(4096, 2048, 4096));
    EXPECT_EQ(info->spill_bytes, 0) << compiler::to_string(arch);
    EXPECT_GT(info->ptx_instructions.at("mma_sync"), 0);
  }
}

TEST(MatmulBackward, GatedLaunchNeedsGateAndUpAndThenTheDevice) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  auto op = rt.matmul_backward({.activation = "geglu"});
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args{.a = fake(0x1000), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {128, 256, 64}};
  args.alpha = 0.5f;  // scales dH; unlike the gated forward, allowed
  auto no_aux = (*op)(nullptr, args, Params{});
  ASSERT_FALSE(no_aux);
  EXPECT_EQ(no_aux.error().code, ErrorCode::InvalidInput) << no_aux.error().message;
  args.aux = fake_out(0x4000);
  args.ld_aux = 256;  // N, but aux holds [gate | up]: 2N
  auto narrow = (*op)(nullptr, args, Params{});
  ASSERT_FALSE(narrow);
  EXPECT_NE(narrow.error().message.find("ld_aux = 256 is smaller than 2N"), std::string::npos) << narrow.error().message;
  args.ld_aux = 0;
  auto launched = (*op)(nullptr, args, Params{});
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << launched.error().message;
}

TEST(MatmulBackward, OptionsItCannotServeAreRejected) {
  Runtime rt = memory_runtime();
  auto interleaved = rt.matmul_backward({.activation = "swiglu(gate, up)", .gate_interleave = 16});
  ASSERT_FALSE(interleaved);
  EXPECT_EQ(interleaved.error().code, ErrorCode::InvalidInput);
  auto gated_bias = rt.matmul_backward({.activation = "swiglu(gate, up)", .bias = true});
  ASSERT_FALSE(gated_bias);
  EXPECT_EQ(gated_bias.error().code, ErrorCode::InvalidInput);
  auto bias = rt.matmul_backward({.activation = "gelu(x)", .bias = true});
  ASSERT_FALSE(bias);
  EXPECT_EQ(bias.error().code, ErrorCode::InvalidInput);
  auto bad = rt.matmul_backward({.activation = "gelu(x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidInput);
}

TEST(MatmulBackward, LaunchNeedsZAndThenTheDevice) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  auto op = rt.matmul_backward({.activation = "leaky_relu(x, a)"});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_EQ(op->parameters(), std::vector<std::string>{"a"});
  MatmulArgs args{.a = fake(0x1000), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {128, 256, 64}};
  auto no_z = (*op)(nullptr, args, {{"a", 0.1f}});
  ASSERT_FALSE(no_z);
  EXPECT_EQ(no_z.error().code, ErrorCode::InvalidInput) << no_z.error().message;
  args.aux = fake_out(0x4000);
  auto launched = (*op)(nullptr, args, {{"a", 0.1f}});
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << launched.error().message;
}

// Issue 13: the forward's output aux must not broadcast (stride_aux = 0 is
// refused there), but the backward READS z from aux: one z for every batch
// is a valid broadcast, and D (written) still cannot be.
TEST(MatmulBackward, ZMayBroadcastOverTheBatchButDMayNot) {
  ASSERT_TRUE(kNoDriver);
  auto op = memory_runtime().matmul_backward({.activation = "gelu(x)"});
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args{.a = fake(0x1000), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {128, 256, 64}};
  args.aux = fake_out(0x4000);
  args.batch = 2;
  args.stride_aux = 0;
  auto launched = (*op)(nullptr, args);
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << "the arguments were accepted: " << launched.error().message;
  args.stride_d = 0;
  auto same_d = (*op)(nullptr, args);
  ASSERT_FALSE(same_d);
  EXPECT_EQ(same_d.error().code, ErrorCode::InvalidInput) << same_d.error().message;
  EXPECT_NE(same_d.error().message.find("stride_d = 0"), std::string::npos) << same_d.error().message;
}

TEST(MatmulBackward, TuningIsRejected) {
  Runtime rt = memory_runtime();
  auto op = rt.matmul_backward({.activation = "silu(x)"});
  ASSERT_TRUE(op) << op.error().message;
  const Shape shapes[] = {{256, 256, 256}};
  auto tuned = rt.tune(*op, shapes, {.simulate = true});
  ASSERT_FALSE(tuned);
  EXPECT_EQ(tuned.error().code, ErrorCode::Unsupported);
}

}  // namespace
}  // namespace tilefuse
