// The wgmma/TMA path on a compute capability 9.0 device (sm_90a), through
// the real Runtime::matmul launch path: the persistent grid, the two kernel
// parameters (TfGemmParams, TfSm90Params) and every tensor map encoded.
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

// TfSm90Params (templates/tilefuse/gemm_sm90.cuh): three 128-byte tensor
// maps (A, B, W_up), then batch_count, a_batched, b_batched.
constexpr std::size_t kMapA = 0, kMapB = 128, kMapUp = 256, kBatchCount = 384, kABatched = 388, kBBatched = 392;

/// The persistent kernel: at most one block per multiprocessor, never more
/// blocks than output tiles (batches included); one producer and two
/// consumer warpgroups.
void expect_sm90_geometry(const TfFakeLaunch& launch, const KernelInfo& kernel, long long m, long long n, int batch,
                          bool gated) {
  const TileConfig& t = kernel.tile;
  const long long tiles = ceil_div(m, t.block_m) * ceil_div(n, t.block_n) * batch;
  EXPECT_EQ(launch.grid[0], std::min<long long>(tiles, kSm90SmCount)) << compiler::to_string(t);
  EXPECT_EQ(launch.grid[1], 1u);
  EXPECT_EQ(launch.grid[2], 1u);
  EXPECT_EQ(launch.block[0], 384u);
  EXPECT_EQ(launch.block[0], static_cast<unsigned>(launch.max_threads)) << "__launch_bounds__(384, 1)";
  EXPECT_EQ(launch.block[1] * launch.block[2], 1u);
  EXPECT_EQ(launch.shared_bytes, compiler::tile_shared_bytes(compiler::Mainloop::WgmmaWarpSpecialized, t, gated));
  EXPECT_EQ(launch.shared_bytes, static_cast<unsigned>(kernel.shared_bytes));
  EXPECT_EQ(std::string(launch.module_arch), "sm_90");
}

/// The recorded encode whose map bytes sit at `offset` of parameter 1.
const TfFakeTensorMapEncode* map_at(const TfFakeLaunch& launch, std::size_t offset) {
  const unsigned char* map = launch.params + launch.param_offset[1] + offset;
  for (const TfFakeTensorMapEncode* e : tensor_map_encodes())
    if (e->result == CUDA_SUCCESS && std::memcmp(e->map, map, 128) == 0) return e;
  return nullptr;
}

int int_at(const TfFakeLaunch& launch, std::size_t offset) {
  int value;
  std::memcpy(&value, launch.params + launch.param_offset[1] + offset, 4);
  return value;
}

void expect_first_param(const TfFakeLaunch& launch, const std::vector<unsigned char>& expected) {
  ASSERT_EQ(launch.param_count, 2) << "the wgmma kernel takes TfGemmParams and TfSm90Params";
  ASSERT_EQ(launch.param_size[0], expected.size());
  ASSERT_EQ(launch.param_size[1], 512u) << "sizeof(TfSm90Params)";
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(launch.params[launch.param_offset[0] + i], expected[i]) << "TfGemmParams byte " << i;
}

class Sm90Launch : public FakeDriverTest {
 protected:
  void SetUp() override {
    FakeDriverTest::SetUp();
    context_ = use_device(kSm90Device);
  }
  CUcontext context_ = nullptr;
};

TEST_F(Sm90Launch, PlainBatchedOpMapsAndPersistentGrid) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 200, n = 136, k = 72;
  const int batch = 3;
  const long long lda = 80, ldb = 144, ldd = 144;
  DeviceMemory a(batch * m * lda * 2), b(k * ldb * 2), d(batch * m * ldd * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm90a);
  ASSERT_TRUE(kernel) << kernel.error().message;
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}, .lda = lda, .ldb = ldb, .ldd = ldd,
                  .alpha = 2.0f, .batch = batch, .stride_a = m * lda, .stride_b = 0};
  ASSERT_TRUE((*op)(nullptr, args)) << "launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& l = *all[0];
  expect_launch_invariants(l);
  EXPECT_EQ(l.context, context_);
  expect_sm90_geometry(l, *kernel, m, n, batch, false);
  ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = n,
                 .ldd = ldd, .ld_aux = n, .stride_a = m * lda, .stride_b = 0, .stride_c = m * n, .stride_d = m * ldd,
                 .stride_aux = m * n, .alpha = 2.0f, .beta = 1.0f};
  expect_first_param(l, pack_expected_params(r, {}));

  expect_tensor_maps_within_limits();
  EXPECT_EQ(tensor_map_encodes().size(), 2u) << "A and B (W_up is B's copy)";
  const TfFakeTensorMapEncode* map_a = map_at(l, kMapA);
  const TfFakeTensorMapEncode* map_b = map_at(l, kMapB);
  ASSERT_NE(map_a, nullptr) << "parameter 1's A map is none of the encoded maps";
  ASSERT_NE(map_b, nullptr) << "parameter 1's B map is none of the encoded maps";
  EXPECT_EQ(map_a->global_address, a.get());
  EXPECT_EQ(map_a->dims[0], static_cast<cuuint64_t>(k));  // K innermost (A is row-major M x K)
  EXPECT_EQ(map_a->dims[1], static_cast<cuuint64_t>(m));
  EXPECT_EQ(map_a->dims[2], static_cast<cuuint64_t>(batch)) << "A is batched";
  EXPECT_EQ(map_a->strides[0], static_cast<cuuint64_t>(lda * 2));
  EXPECT_EQ(map_a->strides[1], static_cast<cuuint64_t>(m * lda * 2));
  EXPECT_EQ(map_a->box[1], static_cast<cuuint32_t>(kernel->tile.block_m));
  EXPECT_EQ(map_a->data_type, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
  EXPECT_EQ(map_b->global_address, b.get());
  EXPECT_EQ(map_b->dims[0], static_cast<cuuint64_t>(n));  // row-major K x N: N innermost
  EXPECT_EQ(map_b->dims[1], static_cast<cuuint64_t>(k));
  EXPECT_EQ(map_b->strides[0], static_cast<cuuint64_t>(ldb * 2));
  EXPECT_EQ(std::memcmp(l.params + l.param_offset[1] + kMapUp, map_b->map, 128), 0) << "W_up slot holds B's map";
  EXPECT_EQ(int_at(l, kBatchCount), batch);
  EXPECT_EQ(int_at(l, kABatched), 1);
  EXPECT_EQ(int_at(l, kBBatched), 0) << "stride_b = 0 broadcasts B";
}

TEST_F(Sm90Launch, GatedOpEncodesBothWeights) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "swiglu", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 256, n = 192, k = 128;
  DeviceMemory a(m * k * 2), gate(k * n * 2), up(k * n * 2), d(m * n * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm90a);
  ASSERT_TRUE(kernel) << kernel.error().message;
  ASSERT_TRUE((*op)(nullptr, a.get(), gate.get(), up.get(), d.get(), {m, n, k})) << "launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& l = *all[0];
  expect_launch_invariants(l);
  expect_sm90_geometry(l, *kernel, m, n, 1, true);
  ResolvedArgs r{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .m = m, .n = n, .k = k, .lda = k,
                 .ldb = n, .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m * k, .stride_b = k * n, .stride_c = m * n,
                 .stride_d = m * n, .stride_aux = m * n, .alpha = 1.0f, .beta = 1.0f};
  expect_first_param(l, pack_expected_params(r, {}));
  expect_tensor_maps_within_limits();
  EXPECT_EQ(tensor_map_encodes().size(), 3u) << "A, W_gate, W_up";
  const TfFakeTensorMapEncode *map_a = map_at(l, kMapA), *map_gate = map_at(l, kMapB), *map_up = map_at(l, kMapUp);
  ASSERT_TRUE(map_a && map_gate && map_up) << "a map in TfSm90Params is none of the encoded ones";
  EXPECT_EQ(map_a->global_address, a.get());
  EXPECT_EQ(map_gate->global_address, gate.get());
  EXPECT_EQ(map_up->global_address, up.get());
  EXPECT_EQ(int_at(l, kBatchCount), 1);
  EXPECT_EQ(int_at(l, kABatched), 0);
  EXPECT_EQ(int_at(l, kBBatched), 0);
}

TEST_F(Sm90Launch, ParameterisedOpAndRepeatedLaunchesReuseTheMaps) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "leaky_relu(x, a)", .dtype = DType::BF16});
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 128, n = 128, k = 64;
  DeviceMemory a(m * k * 2), b(k * n * 2), d(m * n * 2), d2(m * n * 2);
  auto kernel = op->compile({m, n, k}, Arch::Sm90a);
  ASSERT_TRUE(kernel) << kernel.error().message;
  ASSERT_TRUE((*op)(nullptr, a.get(), b.get(), d.get(), {m, n, k}, {{"a", 0.25f}}));
  ASSERT_TRUE((*op)(nullptr, a.get(), b.get(), d2.get(), {m, n, k}, {{"a", 0.5f}}));
  auto all = launches();
  ASSERT_EQ(all.size(), 2u);
  const float values[] = {0.25f, 0.5f};
  void* outputs[] = {d.get(), d2.get()};
  for (int i = 0; i < 2; ++i) {
    expect_launch_invariants(*all[i]);
    expect_sm90_geometry(*all[i], *kernel, m, n, 1, false);
    ResolvedArgs r{.a = a.get(), .b = b.get(), .d = outputs[i], .m = m, .n = n, .k = k, .lda = k, .ldb = n,
                   .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m * k, .stride_b = k * n, .stride_c = m * n,
                   .stride_d = m * n, .stride_aux = m * n, .alpha = 1.0f, .beta = 1.0f};
    expect_first_param(*all[i], pack_expected_params(r, {values[i]}));
    EXPECT_NE(map_at(*all[i], kMapA), nullptr);
  }
  expect_tensor_maps_within_limits();
  EXPECT_EQ(tensor_map_encodes().size(), 2u) << "D is not in a map: the second launch reuses A's and B's";
}

// ---- grouped (mixture-of-experts) ops: the experts are the batch of B --------

void append_words(std::vector<unsigned char>& bytes, std::initializer_list<long long> words) {
  for (long long w : words) {
    const auto* raw = reinterpret_cast<const unsigned char*>(&w);
    bytes.insert(bytes.end(), raw, raw + sizeof w);
  }
}

// Contiguous: A is the one [T, K] matrix of every expert (no batch
// coordinate: the kernel addresses its global rows), B [E, N, K] is batched
// by expert; the grid is min(SMs, the bound of the tiles over every split of
// T rows into E groups); TfGroupedParams follows the operand vectors.
TEST_F(Sm90Launch, GroupedContiguousOpMapsTheExpertsAsBatchOfB) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "x * route", .dtype = DType::BF16, .row_inputs = {"route"},
                       .b_col_major = true, .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(op) << op.error().message;
  const long long t = 300, n = 128, k = 64, experts = 8;
  DeviceMemory a(t * k * 2), b(experts * n * k * 2), d(t * n * 2), route(t * 4), offsets((experts + 1) * 4);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {t, n, k}};
  args.row_inputs[0] = static_cast<const float*>(route.get());
  args.groups = static_cast<int>(experts);
  args.group_offsets = static_cast<const int*>(offsets.get());
  ASSERT_TRUE((*op)(nullptr, args)) << "launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& l = *all[0];
  expect_launch_invariants(l);
  // The tile the launch chose: for the mean expert's rows (38: a 64-row tile).
  auto kernel = op->compile(Shape{ceil_div(t, experts), n, k}, Arch::Sm90a);
  ASSERT_TRUE(kernel) << kernel.error().message;
  const TileConfig& tile = kernel->tile;
  EXPECT_EQ(tile.block_m, 64) << "a 64-row tile for experts of ~38 rows";
  EXPECT_EQ(l.shared_bytes, static_cast<unsigned>(kernel->shared_bytes)) << "the launch ran that tile";
  const long long bound_rows = (t + experts * (tile.block_m - 1)) / tile.block_m;
  EXPECT_EQ(l.grid[0], std::min<long long>(bound_rows * ceil_div(n, tile.block_n), kSm90SmCount))
      << compiler::to_string(tile);
  EXPECT_EQ(l.block[0], 384u);
  ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .m = t, .n = n, .k = k, .lda = k, .ldb = k, .ldc = n,
                 .ldd = n, .ld_aux = n, .stride_a = 0, .stride_b = n * k, .stride_c = 0, .stride_d = 0,
                 .stride_aux = 0, .alpha = 1.0f, .beta = 1.0f};
  std::vector<unsigned char> expected = pack_expected_params(r, {});
  append_words(expected, {reinterpret_cast<long long>(route.get()), 0, 0, 0});  // route: one [T] vector
  append_words(expected, {reinterpret_cast<long long>(offsets.get()), experts, 0});
  expect_first_param(l, expected);

  expect_tensor_maps_within_limits();
  const TfFakeTensorMapEncode *map_a = map_at(l, kMapA), *map_b = map_at(l, kMapB);
  ASSERT_TRUE(map_a && map_b) << "a map in TfSm90Params is none of the encoded ones";
  EXPECT_EQ(map_a->dims[0], static_cast<cuuint64_t>(k));
  EXPECT_EQ(map_a->dims[1], static_cast<cuuint64_t>(t)) << "A: the T rows of every expert";
  EXPECT_EQ(map_a->dims[2], 1u) << "a contiguous A has no expert coordinate";
  EXPECT_EQ(map_b->global_address, b.get());
  EXPECT_EQ(map_b->dims[0], static_cast<cuuint64_t>(k));  // col-major [E, N, K]: K innermost
  EXPECT_EQ(map_b->dims[1], static_cast<cuuint64_t>(n));
  EXPECT_EQ(map_b->dims[2], static_cast<cuuint64_t>(experts)) << "B: one N x K weight per expert";
  EXPECT_EQ(map_b->strides[1], static_cast<cuuint64_t>(n * k * 2));
  EXPECT_EQ(int_at(l, kBatchCount), experts);
  EXPECT_EQ(int_at(l, kABatched), 0);
  EXPECT_EQ(int_at(l, kBBatched), 1);
}

// Masked: A [E, M_max, K] and both weights [E, K, N] are batched by expert;
// the grid is min(SMs, E x ceil(M_max / BM) x tiles along N).
TEST_F(Sm90Launch, GroupedMaskedGatedOpMapsASlabPerExpert) {
  Runtime rt = heuristic_runtime();
  auto op = rt.matmul({.activation = "silu(gate) * up", .dtype = DType::BF16, .grouped = GroupLayout::Masked});
  ASSERT_TRUE(op) << op.error().message;
  const long long m_max = 96, n = 64, k = 64, experts = 4;
  DeviceMemory a(experts * m_max * k * 2), gate(experts * k * n * 2), up(experts * k * n * 2),
      d(experts * m_max * n * 2), counts(experts * 4);
  MatmulArgs args{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .shape = {m_max, n, k}};
  args.groups = static_cast<int>(experts);
  args.group_rows = static_cast<const int*>(counts.get());
  ASSERT_TRUE((*op)(nullptr, args)) << "launch failed";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& l = *all[0];
  expect_launch_invariants(l);
  auto kernel = op->compile(Shape{m_max, n, k}, Arch::Sm90a);
  ASSERT_TRUE(kernel) << kernel.error().message;
  const TileConfig& tile = kernel->tile;
  EXPECT_EQ(l.grid[0], std::min<long long>(experts * ceil_div(m_max, tile.block_m) * ceil_div(n, tile.block_n),
                                           kSm90SmCount));
  ResolvedArgs r{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .m = m_max, .n = n, .k = k,
                 .lda = k, .ldb = n, .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m_max * k, .stride_b = k * n,
                 .stride_c = m_max * n, .stride_d = m_max * n, .stride_aux = m_max * n, .alpha = 1.0f,
                 .beta = 1.0f};
  std::vector<unsigned char> expected = pack_expected_params(r, {});
  append_words(expected, {reinterpret_cast<long long>(counts.get()), experts, 0});
  expect_first_param(l, expected);

  expect_tensor_maps_within_limits();
  EXPECT_EQ(tensor_map_encodes().size(), 3u) << "A, W_gate, W_up";
  const TfFakeTensorMapEncode *map_a = map_at(l, kMapA), *map_gate = map_at(l, kMapB), *map_up = map_at(l, kMapUp);
  ASSERT_TRUE(map_a && map_gate && map_up) << "a map in TfSm90Params is none of the encoded ones";
  EXPECT_EQ(map_a->dims[1], static_cast<cuuint64_t>(m_max));
  EXPECT_EQ(map_a->dims[2], static_cast<cuuint64_t>(experts)) << "A: one M_max x K slab per expert";
  EXPECT_EQ(map_a->strides[1], static_cast<cuuint64_t>(m_max * k * 2));
  for (const TfFakeTensorMapEncode* w : {map_gate, map_up}) {
    EXPECT_EQ(w->dims[2], static_cast<cuuint64_t>(experts));
    EXPECT_EQ(w->strides[1], static_cast<cuuint64_t>(k * n * 2));
  }
  EXPECT_EQ(map_up->global_address, up.get());
  EXPECT_EQ(int_at(l, kBatchCount), experts);
  EXPECT_EQ(int_at(l, kABatched), 1);
  EXPECT_EQ(int_at(l, kBBatched), 1);
}

}  // namespace
}  // namespace tilefuse::fakedriver
