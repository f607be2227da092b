// Grouped ops (issue 15) through the public API without a driver: option
// checks, launch arguments checked before the device is looked up, and NVRTC
// compiles of every grouped kernel kind for sm_80 and sm_90 (the mma.sync
// template) with no spills. Prints registers, spills and compile time.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdio>

#include "runtime/CacheKey.h"
#include "runtime/ops/FusedKernel.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

struct GroupedKind {
  const char* name;
  MatmulOptions options;
  bool backward = false;
};

// Every kind of grouped kernel: plain with bias, gated (two weights, with
// aux; interleaved), the MoE down projection `x * route` with a column scale
// and the epilogue inputs, and both backward GEMMs.
std::vector<GroupedKind> grouped_kinds() {
  return {
      {"gelu_bias_colb", {.activation = "gelu(x)", .bias = true, .b_col_major = true}},
      {"swiglu_aux", {.activation = "silu(gate) * up", .aux = true}},
      {"swiglu_interleave64_colb", {.activation = "silu(gate) * up", .b_col_major = true, .gate_interleave = 64}},
      {"down_x_route_s_f32out",
       {.activation = "x * route * s", .dtype = DType::F16, .bias = true, .row_inputs = {"route"},
        .col_inputs = {"s"}, .residual = true, .aux = true, .out_dtype = DType::F32}},
      {"gelu_backward_colb", {.activation = "gelu(x)", .b_col_major = true}, true},
      {"swiglu_backward", {.activation = "silu(gate) * up"}, true},
  };
}

TEST(GroupedOps, EveryKindCompilesForSm80AndSm90WithoutSpills) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  const std::vector<GroupedKind> kinds = grouped_kinds();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    // Each kind in both layouts: one on sm_80, the other on sm_90.
    for (auto [arch, layout] : {std::pair{Arch::Sm80, i % 2 ? GroupLayout::Masked : GroupLayout::Contiguous},
                                std::pair{Arch::Sm90, i % 2 ? GroupLayout::Contiguous : GroupLayout::Masked}}) {
      MatmulOptions options = kinds[i].options;
      options.grouped = layout;
      SCOPED_TRACE(std::string(kinds[i].name) + " " + to_string(layout) + " " + to_string(arch));
      auto op = kinds[i].backward ? rt.matmul_backward(options) : rt.matmul(options);
      ASSERT_TRUE(op) << op.error().message;
      // The default tile of 8 experts of ~512 tokens by a 4096 x 4096 weight.
      auto info = op->compile(Shape{4096, 4096, 4096}, arch);
      ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail;
      EXPECT_EQ(info->spill_bytes, 0) << to_string(info->tile) << ": " << info->registers << " registers";
      std::printf("[ grouped ] %-26s %-10s %s %s: %d registers, %d spill bytes, %.0f ms\n", kinds[i].name,
                  to_string(layout), info->arch.c_str(), to_string(info->tile).c_str(), info->registers,
                  info->spill_bytes, info->compile_ms);
    }
  }
}

TEST(GroupedOps, TheLayoutIsPartOfTheKernelCacheKey) {
  compiler::KernelSpec spec;
  spec.expression = "silu(gate) * up";
  auto epilogue = compiler::compile(spec);
  ASSERT_TRUE(epilogue) << epilogue.error().message;
  std::string keys[3];
  int i = 0;
  for (GroupLayout layout : {GroupLayout::None, GroupLayout::Contiguous, GroupLayout::Masked}) {
    spec.grouped = layout;
    keys[i++] = runtime::cache_key(ops::fused_kernel_source(spec, *epilogue, ops::KernelKind::Gemm), "precise");
  }
  EXPECT_NE(keys[0], keys[1]);
  EXPECT_NE(keys[0], keys[2]);
  EXPECT_NE(keys[1], keys[2]);
}

TEST(GroupedOps, Sm90aIsUnsupportedUntilTheWgmmaKernelServesGroups) {
  Runtime rt = memory_runtime();
  auto forced = rt.matmul({.activation = "gelu(x)", .grouped = GroupLayout::Contiguous, .arch = Arch::Sm90a});
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code, ErrorCode::Unsupported);
  EXPECT_NE(forced.error().message.find("Arch::Sm90"), std::string::npos) << forced.error().message;
  // Compiling an unforced op for sm_90a is refused the same way.
  auto op = rt.matmul({.activation = "gelu(x)", .grouped = GroupLayout::Masked});
  ASSERT_TRUE(op) << op.error().message;
  auto info = op->compile(Shape{256, 256, 256}, Arch::Sm90a);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::Unsupported);
}

TEST(GroupedOps, LaunchArgumentsAreCheckedBeforeTheDevice) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  auto op = rt.matmul({.activation = "silu(gate) * up", .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args;
  args.a = reinterpret_cast<const void*>(0x100000);
  args.b = reinterpret_cast<const void*>(0x200000);
  args.b_up = reinterpret_cast<const void*>(0x300000);
  args.d = reinterpret_cast<void*>(0x400000);
  args.shape = {512, 768, 2048};
  args.groups = 0;  // E = 0
  auto launched = (*op)(nullptr, args);
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(launched.error().message.find("groups = 0"), std::string::npos) << launched.error().message;
  // With good arguments the launch gets as far as the (missing) driver.
  args.groups = 128;
  args.group_offsets = reinterpret_cast<const int*>(0x500000);
  launched = (*op)(nullptr, args);
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << launched.error().message;
}

TEST(GroupedOps, BackwardAcceptsTheGroupedLayouts) {
  Runtime rt = memory_runtime();
  for (GroupLayout layout : {GroupLayout::Contiguous, GroupLayout::Masked}) {
    auto op = rt.matmul_backward({.activation = "silu(gate) * up", .grouped = layout});
    ASSERT_TRUE(op) << op.error().message;
    EXPECT_EQ(op->options().grouped, layout);
  }
}

}  // namespace
}  // namespace tilefuse
