// tilefuse::Runtime / MatmulOp on a machine without a CUDA driver: options
// and parameters are checked, kernels compile, and every launch that gets as
// far as the device fails with NoDevice.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <optional>
#include <thread>
#include <vector>

#include "compiler/Target/TargetInfo.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

// This suite simulates a machine without a driver, even where one exists
// (tests/gpu covers launches): the driver is loaded once per process, on the
// first launch, from $TILEFUSE_LIBCUDA. Set before any test runs.
const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

TEST(MatmulOp, ParametersComeFromTheActivationInOrder) {
  auto op = memory_runtime().matmul({.activation = "leaky_relu(x, a) + b * x"});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_EQ(op->parameters(), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(op->gated());
  auto gated = memory_runtime().matmul({.activation = "swiglu"});
  ASSERT_TRUE(gated) << gated.error().message;
  EXPECT_TRUE(gated->gated());
  EXPECT_TRUE(gated->parameters().empty());
}

TEST(MatmulOp, BadActivationIsAPositionedInvalidInput) {
  auto op = memory_runtime().matmul({.activation = "gelu(x) +"});
  ASSERT_FALSE(op);
  EXPECT_EQ(op.error().code, ErrorCode::InvalidInput);
  auto unknown = memory_runtime().matmul({.activation = "gleu(x)"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("gelu"), std::string::npos) << unknown.error().message;
}

TEST(MatmulOp, OptionCombinationsTheKernelCannotServeAreRejectedUpFront) {
  Runtime rt = memory_runtime();
  for (auto options : {MatmulOptions{.activation = "swiglu(gate, up)", .bias = true},
                       MatmulOptions{.activation = "geglu", .residual = true}}) {  // gated aux: backward_gated_*_test
    auto op = rt.matmul(options);
    ASSERT_FALSE(op) << options.activation;
    EXPECT_EQ(op.error().code, ErrorCode::InvalidInput);
    EXPECT_NE(op.error().message.find("gated"), std::string::npos) << op.error().message;
  }
  auto interleave_single = rt.matmul({.activation = "gelu", .gate_interleave = 16});
  ASSERT_FALSE(interleave_single);
  EXPECT_NE(interleave_single.error().message.find("not gated"), std::string::npos);
  auto odd_block = rt.matmul({.activation = "swiglu", .gate_interleave = 12});
  ASSERT_FALSE(odd_block);
  EXPECT_NE(odd_block.error().message.find("multiple of 8"), std::string::npos);
  auto f32_in = rt.matmul({.activation = "relu", .dtype = DType::F32});
  ASSERT_FALSE(f32_in);
  EXPECT_NE(f32_in.error().message.find("bf16 or f16"), std::string::npos);
  EXPECT_TRUE(rt.matmul({.activation = "relu", .dtype = DType::F16, .out_dtype = DType::F32}));
}

TEST(MatmulOp, MissingOrUnknownParameterIsAnErrorNamingIt) {
  auto op = memory_runtime().matmul({.activation = "leaky_relu(x, a)"});
  ASSERT_TRUE(op) << op.error().message;
  auto missing = (*op)(nullptr, fake(0x1000), fake(0x2000), fake_out(0x3000), {64, 64, 64});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(missing.error().message.find("'a'"), std::string::npos) << missing.error().message;
  auto typo = (*op)(nullptr, fake(0x1000), fake(0x2000), fake_out(0x3000), {64, 64, 64},
                    {{"a", 0.1f}, {"aa", 2.0f}});
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("no runtime parameter 'aa'"), std::string::npos)
      << typo.error().message;
  const float too_few[] = {1.0f, 2.0f};
  MatmulArgs args{.a = fake(0x1000), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {8, 8, 8}};
  auto count = (*op)(nullptr, args, std::span<const float>(too_few));
  ASSERT_FALSE(count);
  EXPECT_NE(count.error().message.find("takes 1 runtime parameter"), std::string::npos)
      << count.error().message;
}

TEST(MatmulOp, ArgumentErrorsComeBeforeTheDevice) {
  auto op = memory_runtime().matmul({.activation = "gelu", .bias = true});
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args{.a = fake(0x1008), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {8, 8, 8},
                  .bias = fake(0x4000)};
  auto unaligned = (*op)(nullptr, args);
  ASSERT_FALSE(unaligned);
  EXPECT_EQ(unaligned.error().code, ErrorCode::Unsupported) << unaligned.error().message;
  auto no_bias = (*op)(nullptr, fake(0x1000), fake(0x2000), fake_out(0x3000), {8, 8, 8});
  ASSERT_FALSE(no_bias);
  EXPECT_EQ(no_bias.error().code, ErrorCode::InvalidInput);
}

TEST(MatmulOp, GatedFormsCheckWhichWeightsTheyGet) {
  Runtime rt = memory_runtime();
  auto separate = rt.matmul({.activation = "swiglu"});
  ASSERT_TRUE(separate);
  auto one_weight = (*separate)(nullptr, fake(0x1000), fake(0x2000), fake_out(0x3000), {8, 8, 8});
  ASSERT_FALSE(one_weight);
  EXPECT_NE(one_weight.error().message.find("two weight matrices"), std::string::npos);
  auto plain = rt.matmul({.activation = "silu"});
  ASSERT_TRUE(plain);
  auto two_weights =
      (*plain)(nullptr, fake(0x1000), fake(0x2000), fake(0x2800), fake_out(0x3000), {8, 8, 8});
  ASSERT_FALSE(two_weights);
  EXPECT_NE(two_weights.error().message.find("not gated"), std::string::npos);
}

TEST(MatmulOp, LaunchWithoutADriverIsNoDevice) {
  ASSERT_TRUE(kNoDriver);
  Runtime rt = memory_runtime();
  auto op = rt.matmul({.activation = "gelu(x)", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  auto result = (*op)(nullptr, fake(0x1000), fake(0x2000), fake_out(0x3000), {128, 256, 64});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::NoDevice) << result.error().message;
  auto gated = rt.matmul({.activation = "swiglu"});
  ASSERT_TRUE(gated);
  // 1 x 1 x 1 needs padded leading dimensions (rows start on 16-byte boundaries).
  MatmulArgs tiny{.a = fake(0x1000), .b = fake(0x2000), .b_up = fake(0x2800), .d = fake_out(0x3000),
                  .shape = {1, 1, 1}, .lda = 8, .ldb = 8, .ldd = 8};
  auto gated_result = (*gated)(nullptr, tiny);
  ASSERT_FALSE(gated_result);
  EXPECT_EQ(gated_result.error().code, ErrorCode::NoDevice) << gated_result.error().message;
}

TEST(MatmulOp, CompileNeedsNoDeviceAndCachesPerTile) {
  Runtime rt = memory_runtime();
  auto op = rt.matmul({.activation = "relu(x)", .bias = true});
  ASSERT_TRUE(op) << op.error().message;
  auto big = op->compile({4096, 4096, 4096}, Arch::Sm80);
  ASSERT_TRUE(big) << big.error().message << "\n" << big.error().detail;
  EXPECT_EQ(big->arch, "sm_80");
  EXPECT_EQ(big->tile, compiler::make_target(Arch::Sm80)->default_tile(4096, 4096, 4096));
  EXPECT_EQ(big->threads, static_cast<unsigned>(big->tile.warps() * 32));
  EXPECT_EQ(big->spill_bytes, 0);
  EXPECT_GT(big->ptx_instructions.at("mma_sync"), 0);
  EXPECT_FALSE(big->cache_hit);

  auto again = op->compile({4096, 4096, 4096}, Arch::Sm80);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->cache_hit) << "the second request for one (arch, tile) compiles nothing";

  auto small = op->compile({16, 4096, 4096}, Arch::Sm80);  // the heuristic narrows block_m
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->tile.block_m, 64);
}

TEST(MatmulOp, ConcurrentFirstUsesShareOneKernel) {
  auto op = memory_runtime().matmul({.activation = "quick_gelu"});
  ASSERT_TRUE(op) << op.error().message;
  constexpr int kThreads = 4;
  std::vector<std::optional<Expected<KernelInfo>>> infos(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] { infos[i].emplace(op->compile({512, 512, 512}, Arch::Sm80)); });
  for (auto& t : threads) t.join();
  int built = 0;
  for (const auto& slot : infos) {
    const Expected<KernelInfo>& info = *slot;
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->tile, (*infos[0])->tile);
    built += info->cache_hit ? 0 : 1;
  }
  // One NVRTC compile at most (the kernel cache's single flight; a thread that
  // waited for another's compile reports a hit).
  EXPECT_LE(built, 1);
}

TEST(MatmulOp, GatedHeuristicTileDoesNotSpill) {
  auto op = memory_runtime().matmul({.activation = "swiglu"});
  ASSERT_TRUE(op) << op.error().message;
  auto info = op->compile({4096, 14336, 4096}, Arch::Sm80);
  ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail;
  EXPECT_EQ(info->tile.warp_m * info->tile.warp_n, 64 * 32);
  EXPECT_EQ(info->spill_bytes, 0) << compiler::to_string(info->tile) << ": " << info->registers << " registers";
}

TEST(MatmulOp, ForcedTileIsUsedWithTheTargetsVectorWidth) {
  TileConfig forced{64, 128, 32, 32, 64, 2, /*vector_width=*/1, 4};
  auto op = memory_runtime().matmul({.activation = "silu", .tile = forced});
  ASSERT_TRUE(op) << op.error().message;
  auto info = op->compile({1000, 1000, 1000}, Arch::Sm80);
  ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail;
  EXPECT_EQ(info->tile.block_m, 64);
  EXPECT_EQ(info->tile.warp_m, 32);
  EXPECT_EQ(info->tile.stages, 2);
  EXPECT_EQ(info->tile.group_m, 4);
  EXPECT_EQ(info->tile.vector_width, 4);
  EXPECT_EQ(info->shared_bytes, 4 * 32 * (64 + 8) * 4);  // epilogue staging of 4 warps of 32x64

  auto rejected = memory_runtime().matmul({.activation = "silu", .tile = TileConfig{96, 128, 32, 64, 64, 2, 4, 8}});
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, ErrorCode::InvalidInput) << rejected.error().message;
}

}  // namespace
}  // namespace tilefuse
