// The mma.sync path on a compute capability 8.0 device, through the real
// Runtime::matmul / matmul_backward launch path: what reaches the driver.
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

/// Geometry of the mma.sync kernel (gemm_sm80.cuh): one block per output
/// tile, grid.y = batch, warps x 32 threads, the cp.async ring in dynamic
/// shared memory.
void expect_sm80_geometry(const TfFakeLaunch& launch, const KernelInfo& kernel, long long m, long long n,
                          int batch, bool gated) {
  const TileConfig& t = kernel.tile;
  EXPECT_EQ(launch.grid[0], ceil_div(m, t.block_m) * ceil_div(n, t.block_n)) << compiler::to_string(t);
  EXPECT_EQ(launch.grid[1], static_cast<unsigned>(batch));
  EXPECT_EQ(launch.grid[2], 1u);
  EXPECT_EQ(launch.block[0], static_cast<unsigned>((t.block_m / t.warp_m) * (t.block_n / t.warp_n) * 32));
  EXPECT_EQ(launch.block[1], 1u);
  EXPECT_EQ(launch.block[2], 1u);
  EXPECT_EQ(launch.shared_bytes, compiler::tile_shared_bytes(t, gated));
  EXPECT_EQ(launch.shared_bytes, static_cast<unsigned>(kernel.shared_bytes));
  EXPECT_EQ(std::string(launch.module_arch), "sm_80");
}

void expect_params(const TfFakeLaunch& launch, const std::vector<unsigned char>& expected) {
  ASSERT_EQ(launch.param_count, 1) << "the mma.sync kernel takes one TfGemmParams";
  ASSERT_EQ(launch.param_size[0], expected.size()) << "sizeof(TfGemmParams) in the cubin";
  const unsigned char* got = launch.params + launch.param_offset[0];
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(got[i], expected[i]) << "TfGemmParams byte " << i;
}

class Sm80Launch : public FakeDriverTest {
 protected:
  void SetUp() override {
    FakeDriverTest::SetUp();
    context_ = use_device(kSm80Device);
  }
  CUcontext context_ = nullptr;
};

TEST_F(Sm80Launch, PlainOpGeometryAttributeAndParameterBytes) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  // M and N not multiples of any block: the grid must round up.
  const long long m = 200, n = 136, k = 72;
  const int batch = 2;
  const long long lda = 80, ldb = 144, ldd = 144;
  DeviceMemory a(batch * m * lda * 2), b(k * ldb * 2), d(batch * m * ldd * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm80);
  ASSERT_TRUE(kernel) << kernel.error().message;

  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}, .lda = lda, .ldb = ldb, .ldd = ldd,
                  .alpha = 0.75f, .batch = batch, .stride_a = m * lda, .stride_b = 0};
  fake().tf_fake_clear_log();
  ASSERT_TRUE((*op)(nullptr, args)) << "launch failed";
  ASSERT_TRUE((*op)(nullptr, args)) << "second launch failed";

  auto all = launches();
  ASSERT_EQ(all.size(), 2u);
  for (const TfFakeLaunch* l : all) {
    expect_launch_invariants(*l);
    EXPECT_EQ(l->context, context_);
    expect_sm80_geometry(*l, *kernel, m, n, batch, false);
    ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
                   .ldc = n, .ldd = ldd, .ld_aux = n, .stride_a = m * lda, .stride_b = 0, .stride_c = m * n,
                   .stride_d = m * ldd, .stride_aux = m * n, .alpha = 0.75f, .beta = 1.0f};
    expect_params(*l, pack_expected_params(r, {}));
  }
  EXPECT_EQ(all[0]->function, all[1]->function) << "the second launch reuses the loaded kernel";
  EXPECT_EQ(fake().tf_fake_module_load_count(), 1u) << "loaded once, by the first launch";
}

TEST_F(Sm80Launch, ParameterisedOpCarriesItsValuesAfterTheFixedFields) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "leaky_relu(x, a) + b * x", .dtype = DType::BF16, .bias = true,
                       .residual = true});
  ASSERT_TRUE(op) << op.error().message;
  ASSERT_EQ(op->parameters(), (std::vector<std::string>{"a", "b"}));
  const long long m = 64, n = 64, k = 64;
  DeviceMemory a(m * k * 2), b(k * n * 2), d(m * n * 2), bias(n * 2), c(m * n * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm80);
  ASSERT_TRUE(kernel) << kernel.error().message;
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}, .beta = 0.5f,
                  .bias = bias.get(), .c = c.get()};
  ASSERT_TRUE((*op)(nullptr, args, {{"a", 0.125f}, {"b", -3.0f}}));
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  expect_sm80_geometry(*all[0], *kernel, m, n, 1, false);
  ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .bias = bias.get(), .c = c.get(), .m = m, .n = n,
                 .k = k, .lda = k, .ldb = n, .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m * k, .stride_b = k * n,
                 .stride_c = m * n, .stride_d = m * n, .stride_aux = m * n, .alpha = 1.0f, .beta = 0.5f};
  expect_params(*all[0], pack_expected_params(r, {0.125f, -3.0f}));
}

TEST_F(Sm80Launch, GatedOpReadsBothWeights) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "swiglu", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 96, n = 200, k = 64;
  DeviceMemory a(m * k * 2), gate(k * 208 * 2), up(k * 208 * 2), d(m * 208 * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm80);
  ASSERT_TRUE(kernel) << kernel.error().message;
  // N = 200 is not a multiple of 8: pass padded leading dimensions.
  MatmulArgs args{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .shape = {m, n, k}, .ldb = 208,
                  .ldd = 208};
  ASSERT_TRUE((*op)(nullptr, args));
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  expect_sm80_geometry(*all[0], *kernel, m, n, 1, true);
  ResolvedArgs r{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .m = m, .n = n, .k = k, .lda = k,
                 .ldb = 208, .ldc = n, .ldd = 208, .ld_aux = n, .stride_a = m * k, .stride_b = k * 208,
                 .stride_c = m * n, .stride_d = m * 208, .stride_aux = m * n, .alpha = 1.0f, .beta = 1.0f};
  expect_params(*all[0], pack_expected_params(r, {}));
}

TEST_F(Sm80Launch, BackwardOpReadsZFromAux) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul_backward({.activation = "gelu", .dtype = DType::BF16, .b_col_major = true});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 128, n = 64, k = 96;  // dY: M x N_out (= K here), W: N x K col-major
  DeviceMemory dy(m * k * 2), w(n * k * 2), z(m * n * 2), dz(m * n * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm80);
  ASSERT_TRUE(kernel) << kernel.error().message;
  MatmulArgs args{.a = dy.get(), .b = w.get(), .d = dz.get(), .shape = {m, n, k}, .aux = z.get()};
  ASSERT_TRUE((*op)(nullptr, args)) << "backward launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  expect_sm80_geometry(*all[0], *kernel, m, n, 1, false);
  ResolvedArgs r{.a = dy.get(), .b = w.get(), .d = dz.get(), .aux = z.get(), .m = m, .n = n, .k = k, .lda = k,
                 .ldb = k, .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m * k, .stride_b = n * k, .stride_c = m * n,
                 .stride_d = m * n, .stride_aux = m * n, .alpha = 1.0f, .beta = 1.0f};
  expect_params(*all[0], pack_expected_params(r, {}));
}

}  // namespace
}  // namespace tilefuse::fakedriver

namespace tilefuse::fakedriver {
namespace {

/// Row/column inputs (issue 15): the vectors travel after the epilogue
/// parameters (TfOperandVectors), and the launch's argument has exactly the
/// size of the TfGemmParams NVRTC compiled.
TEST_F(Sm80Launch, RowAndColumnInputsFollowTheEpilogueParameters) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "gelu(x * s) * route + a", .dtype = DType::BF16, .row_inputs = {"route"},
                       .col_inputs = {"s"}});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 64, n = 64, k = 64;
  const int batch = 2;
  DeviceMemory a(batch * m * k * 2), b(k * n * 2), d(batch * m * n * 2), route(batch * m * 4), s(n * 4);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}, .batch = batch, .stride_b = 0};
  args.row_inputs[0] = static_cast<const float*>(route.get());
  args.col_inputs[0] = static_cast<const float*>(s.get());
  args.stride_col_inputs[0] = 0;  // one scale vector for both batches
  fake().tf_fake_clear_log();
  ASSERT_TRUE((*op)(nullptr, args, {{"a", 0.25f}})) << "launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .m = m, .n = n, .k = k, .lda = k, .ldb = n, .ldc = n,
                 .ldd = n, .ld_aux = n, .stride_a = m * k, .stride_b = 0, .stride_c = m * n, .stride_d = m * n,
                 .stride_aux = m * n, .alpha = 1.0f, .beta = 1.0f};
  std::vector<unsigned char> expected = pack_expected_params(r, {0.25f});
  const long long operands[4] = {reinterpret_cast<long long>(route.get()), m,  // row[0], its batch stride
                                 reinterpret_cast<long long>(s.get()), 0};     // col[0], broadcast
  const auto* operand_bytes = reinterpret_cast<const unsigned char*>(operands);
  expected.insert(expected.end(), operand_bytes, operand_bytes + sizeof(operands));
  expect_params(*all[0], expected);
}

}  // namespace
}  // namespace tilefuse::fakedriver
