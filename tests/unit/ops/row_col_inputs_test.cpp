// Row and column inputs on the dense op without a driver: option and
// argument checks, the kernel-parameter bytes, and NVRTC compiles of the
// sm_80 kernel that reads them (no spills).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstring>

#include "runtime/ops/GemmArguments.h"
#include "runtime/ops/GemmParams.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
const float* fake_floats(std::uintptr_t address) { return reinterpret_cast<const float*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

MatmulOptions scaled_routed() {
  return {.activation = "gelu(x * s) * route", .row_inputs = {"route"}, .col_inputs = {"s"}};
}

TEST(RowColInputs, TheOpDeclaresThemAndKeepsOtherNamesAsParameters) {
  auto op = memory_runtime().matmul(
      {.activation = "gelu(x * s) * route + a", .row_inputs = {"route"}, .col_inputs = {"s"}});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_EQ(op->parameters(), std::vector<std::string>{"a"});
}

TEST(RowColInputs, DeclarationErrorsAreInvalidInputWithPositions) {
  auto collides = memory_runtime().matmul({.activation = "x * 2", .row_inputs = {"x"}});
  ASSERT_FALSE(collides);
  EXPECT_EQ(collides.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(collides.error().message.find("1:1: row_inputs entry 'x' collides"), std::string::npos)
      << collides.error().message;
  auto unused = memory_runtime().matmul({.activation = "gelu(x)", .col_inputs = {"s"}});
  ASSERT_FALSE(unused);
  EXPECT_EQ(unused.error().code, ErrorCode::InvalidInput);
}

TEST(RowColInputs, CombinationsNotServedYetAreUnsupported) {
  auto backward = memory_runtime().matmul_backward(scaled_routed());
  ASSERT_FALSE(backward);
  EXPECT_EQ(backward.error().code, ErrorCode::Unsupported) << backward.error().message;
  auto too_many = memory_runtime().matmul(
      {.activation = "x * (r1 + r2 + r3 + r4 + r5)", .row_inputs = {"r1", "r2", "r3", "r4", "r5"}});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::Unsupported) << too_many.error().message;
}

TEST(RowColInputs, ArgumentErrorsNameTheVectorBeforeTheDevice) {
  auto op = memory_runtime().matmul(scaled_routed());
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args{.a = fake(0x1000), .b = fake(0x2000), .d = fake_out(0x3000), .shape = {8, 8, 8}};
  args.col_inputs[0] = fake_floats(0x5000);
  auto no_route = (*op)(nullptr, args);
  ASSERT_FALSE(no_route);
  EXPECT_EQ(no_route.error().code, ErrorCode::InvalidInput);
  EXPECT_EQ(no_route.error().message,
            "the activation reads the row input 'route' but MatmulArgs::row_inputs[0] is null: pass a device "
            "pointer to M f32 values (one per output row)");

  args.row_inputs[0] = fake_floats(0x6002);
  auto unaligned = (*op)(nullptr, args);
  ASSERT_FALSE(unaligned);
  EXPECT_EQ(unaligned.error().code, ErrorCode::Unsupported) << unaligned.error().message;

  args.row_inputs[0] = fake_floats(0x6000);
  args.row_inputs[1] = fake_floats(0x7000);
  auto extra = (*op)(nullptr, args);
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().code, ErrorCode::InvalidInput) << extra.error().message;

  args.row_inputs[1] = nullptr;
  args.batch = 2;
  args.stride_a = args.stride_b = args.stride_d = kPackedStride;
  args.stride_col_inputs[0] = 4;  // < N
  auto short_stride = (*op)(nullptr, args);
  ASSERT_FALSE(short_stride);
  EXPECT_EQ(short_stride.error().code, ErrorCode::InvalidInput) << short_stride.error().message;

  args.stride_col_inputs[0] = 0;  // one vector for both batches: fine, so the launch reaches the device
  auto reaches_device = (*op)(nullptr, args);
  ASSERT_FALSE(reaches_device);
  EXPECT_EQ(reaches_device.error().code, ErrorCode::NoDevice) << reaches_device.error().message;
}

TEST(RowColInputs, KernelParameterBytesAppendTheVectorsAfterTheEpilogueParameters) {
  ops::GemmOperands operands;
  operands.row_inputs = {"route"};
  operands.col_inputs = {"s1", "s2"};
  MatmulArgs args{.shape = {64, 32, 16}, .batch = 3};
  args.row_inputs[0] = fake_floats(0x1000);
  args.col_inputs[0] = fake_floats(0x2000);
  args.col_inputs[1] = fake_floats(0x3000);
  args.stride_row_inputs[0] = 0;
  args.stride_col_inputs[1] = 40;
  auto vectors = ops::make_operand_vectors(operands, args);
  ASSERT_TRUE(vectors) << vectors.error().message;
  ops::KernelParamBuffer buffer;
  const float parameter = 0.5f;
  ops::pack_kernel_params(ops::GemmParams{}, std::span<const float>(&parameter, 1), buffer, *vectors);
  // 168 fixed bytes + 1 float, padded to 176; then 1 row slot (pointer, stride)
  // and 2 column slots (2 pointers, 2 strides).
  ASSERT_EQ(buffer.size, 176u + 16u + 32u);
  auto word = [&](std::size_t offset) {
    long long value = 0;
    std::memcpy(&value, buffer.bytes + offset, 8);
    return value;
  };
  EXPECT_EQ(word(176), 0x1000);  // row[0]
  EXPECT_EQ(word(184), 0);       // row_batch_stride[0]: broadcast
  EXPECT_EQ(word(192), 0x2000);  // col[0]
  EXPECT_EQ(word(200), 0x3000);  // col[1]
  EXPECT_EQ(word(208), 32);      // col_batch_stride[0]: packed = N
  EXPECT_EQ(word(216), 40);      // col_batch_stride[1]
}

TEST(RowColInputs, Sm80AndSm90aKernelsCompileWithoutSpills) {
  // NVRTC for sm_80 (mma.sync) and sm_90a (wgmma) at the default tile of a
  // large problem and a narrowed one.
  Runtime rt = memory_runtime();
  const MatmulOptions variants[] = {
      scaled_routed(),
      {.activation = "silu(gate) * up * route", .dtype = DType::F16, .row_inputs = {"route"},
       .out_dtype = DType::F32},
      {.activation = "x * route * s1 + s2", .bias = true, .row_inputs = {"route"}, .col_inputs = {"s1", "s2"}},
  };
  for (const MatmulOptions& options : variants) {
    SCOPED_TRACE(options.activation);
    auto op = rt.matmul(options);
    ASSERT_TRUE(op) << op.error().message;
    for (auto [arch, shape] : {std::pair{Arch::Sm80, Shape{4096, 4096, 4096}}, {Arch::Sm80, Shape{64, 4096, 4096}},
                               {Arch::Sm90a, Shape{4096, 4096, 4096}}, {Arch::Sm90a, Shape{64, 4096, 4096}}}) {
      auto info = op->compile(shape, arch);
      ASSERT_TRUE(info) << info.error().message << "\n" << info.error().detail;
      EXPECT_EQ(info->spill_bytes, 0) << tilefuse::to_string(info->tile) << ": " << info->registers << " registers";
      std::printf("[ row/col inputs ] %s  %s %s: %d registers, %d spill bytes, %.0f ms\n",
                  options.activation.c_str(), info->arch.c_str(), tilefuse::to_string(info->tile).c_str(),
                  info->registers,
                  info->spill_bytes, info->compile_ms);
    }
  }
}

}  // namespace
}  // namespace tilefuse
