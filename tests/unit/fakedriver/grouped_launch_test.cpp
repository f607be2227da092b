// Grouped ops (issue 15) through the real Runtime::matmul launch path: the
// mma.sync kernel's grid is the upper bound of the tiles of every expert on
// grid.x, and TfGroupedParams follows the operand vectors in the bytes the
// cubin's TfGemmParams has. On Hopper a grouped op runs the sm_90 mma.sync
// kernel (the wgmma kernel has no grouped schedule yet).
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

class GroupedLaunch : public FakeDriverTest {};

std::vector<const TfFakeModuleLoad*> module_loads() {
  std::vector<const TfFakeModuleLoad*> out;
  for (std::size_t i = 0; i < fake().tf_fake_module_load_count(); ++i) out.push_back(fake().tf_fake_module_load(i));
  return out;
}

void expect_params(const TfFakeLaunch& launch, const std::vector<unsigned char>& expected) {
  ASSERT_EQ(launch.param_count, 1) << "the mma.sync kernel takes one TfGemmParams";
  ASSERT_EQ(launch.param_size[0], expected.size()) << "sizeof(TfGemmParams) in the cubin";
  const unsigned char* got = launch.params + launch.param_offset[0];
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(got[i], expected[i]) << "TfGemmParams byte " << i;
}

void append(std::vector<unsigned char>& bytes, const long long (&words)[], std::size_t count) {
  const auto* raw = reinterpret_cast<const unsigned char*>(words);
  bytes.insert(bytes.end(), raw, raw + count * sizeof(long long));
}

TEST_F(GroupedLaunch, ContiguousDownProjectionOnSm80) {
  use_device(kSm80Device);
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
  fake().tf_fake_clear_log();
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << launched.error().message;
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  auto kernel = op->compile(Shape{ceil_div(t, experts), n, k}, Arch::Sm80);  // the tile the launch chose
  ASSERT_TRUE(kernel) << kernel.error().message;
  const TileConfig& tile = kernel->tile;
  EXPECT_EQ(all[0]->grid[0], (t + experts * (tile.block_m - 1)) / tile.block_m * ceil_div(n, tile.block_n))
      << compiler::to_string(tile);
  EXPECT_EQ(all[0]->grid[1], 1u);
  ResolvedArgs r{.a = a.get(), .b = b.get(), .d = d.get(), .m = t, .n = n, .k = k, .lda = k, .ldb = k, .ldc = n,
                 .ldd = n, .ld_aux = n, .stride_a = 0, .stride_b = n * k, .stride_c = 0, .stride_d = 0,
                 .stride_aux = 0, .alpha = 1.0f, .beta = 1.0f};
  std::vector<unsigned char> expected = pack_expected_params(r, {});
  const long long operands[] = {reinterpret_cast<long long>(route.get()), 0,  // row[0]: one [T] vector
                                0, 0};                                         // no column input (one slot)
  append(expected, operands, 4);
  const long long grouped[] = {reinterpret_cast<long long>(offsets.get()), experts, 0};
  append(expected, grouped, 3);
  expect_params(*all[0], expected);
}

TEST_F(GroupedLaunch, MaskedGatedOpOnHopperRunsTheSm90MmaSyncKernel) {
  use_device(kSm90Device);
  auto op = heuristic_runtime().matmul({.activation = "silu(gate) * up", .dtype = DType::BF16,
                                        .grouped = GroupLayout::Masked});
  ASSERT_TRUE(op) << op.error().message;
  const long long m_max = 96, n = 64, k = 64, experts = 4;
  DeviceMemory a(experts * m_max * k * 2), gate(experts * k * n * 2), up(experts * k * n * 2),
      d(experts * m_max * n * 2), counts(experts * 4);
  MatmulArgs args{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .shape = {m_max, n, k}};
  args.groups = static_cast<int>(experts);
  args.group_rows = static_cast<const int*>(counts.get());
  fake().tf_fake_clear_log();
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << launched.error().message;
  auto loads = module_loads();
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_STREQ(loads[0]->arch, "sm_90");
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  EXPECT_TRUE(tensor_map_encodes().empty()) << "no TMA on the mma.sync kernel";
  auto kernel = op->compile(Shape{m_max, n, k}, Arch::Sm90);
  ASSERT_TRUE(kernel) << kernel.error().message;
  const TileConfig& tile = kernel->tile;
  EXPECT_EQ(all[0]->grid[0], experts * ceil_div(m_max, tile.block_m) * ceil_div(n, tile.block_n));
  ResolvedArgs r{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .m = m_max, .n = n, .k = k,
                 .lda = k, .ldb = n, .ldc = n, .ldd = n, .ld_aux = n, .stride_a = m_max * k, .stride_b = k * n,
                 .stride_c = m_max * n, .stride_d = m_max * n, .stride_aux = m_max * n, .alpha = 1.0f,
                 .beta = 1.0f};
  std::vector<unsigned char> expected = pack_expected_params(r, {});
  const long long grouped[] = {reinterpret_cast<long long>(counts.get()), experts, 0};
  append(expected, grouped, 3);
  expect_params(*all[0], expected);
}

}  // namespace
}  // namespace tilefuse::fakedriver
