// Issue 13 on the fake driver (which loads an image only where the real
// driver would: a cubin on its own major with a minor no newer than the
// device's, PTX on any newer device, "a" targets on exactly their device):
// a kernel forced to another architecture runs where it can (an sm_80 kernel
// on Hopper as PTX) and is refused up front where it cannot; and a Hopper
// launch of what the wgmma kernel lacks (gated with aux) runs the sm_90
// mma.sync kernel instead of failing.
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

class ArchChoice : public FakeDriverTest {};

constexpr long long kM = 64, kN = 64, kK = 64;

std::vector<const TfFakeModuleLoad*> module_loads() {
  std::vector<const TfFakeModuleLoad*> out;
  for (std::size_t i = 0; i < fake().tf_fake_module_load_count(); ++i) out.push_back(fake().tf_fake_module_load(i));
  return out;
}

TEST_F(ArchChoice, AnSm80KernelRunsOnHopperFromItsPtx) {
  use_device(kSm90Device);
  auto op = heuristic_runtime().matmul({.activation = "relu", .dtype = DType::BF16, .arch = Arch::Sm80});
  ASSERT_TRUE(op) << op.error().message;
  DeviceMemory a(kM * kK * 2), b(kK * kN * 2), d(kM * kN * 2);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {kM, kN, kK}};
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << launched.error().message;
  auto loads = module_loads();
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0]->result, CUDA_SUCCESS) << loads[0]->error;
  EXPECT_EQ(loads[0]->is_ptx, 1) << "the sm_80 cubin cannot load on 9.0: the PTX must be loaded";
  EXPECT_STREQ(loads[0]->arch, "sm_80");
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
}

TEST_F(ArchChoice, ANewerOrHopperOnlyArchitectureIsRefusedBeforeAnythingLoads) {
  use_device(kSm80Device);
  for (Arch arch : {Arch::Sm89, Arch::Sm90, Arch::Sm90a}) {
    auto op = heuristic_runtime().matmul({.activation = "relu", .dtype = DType::BF16, .arch = arch});
    ASSERT_TRUE(op) << op.error().message;
    DeviceMemory a(kM * kK * 2), b(kK * kN * 2), d(kM * kN * 2);
    MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {kM, kN, kK}};
    fake().tf_fake_clear_log();
    auto launched = (*op)(nullptr, args);
    ASSERT_FALSE(launched) << compiler::to_string(arch) << " launched on a compute capability 8.0 device";
    EXPECT_EQ(launched.error().code, ErrorCode::Unsupported) << launched.error().message;
    EXPECT_NE(launched.error().message.find("compute capability 8.0"), std::string::npos) << launched.error().message;
    EXPECT_NE(launched.error().message.find("Leave the architecture unset"), std::string::npos)
        << launched.error().message;
    EXPECT_EQ(fake().tf_fake_module_load_count(), 0u) << "nothing is loaded for a refused architecture";
    EXPECT_EQ(fake().tf_fake_launch_count(), 0u);
  }
}

TEST_F(ArchChoice, GatedWithAuxOnHopperRunsTheSm90MmaSyncKernel) {
  use_device(kSm90Device);
  auto op = heuristic_runtime().matmul({.activation = "swiglu", .dtype = DType::BF16, .aux = true});
  ASSERT_TRUE(op) << op.error().message;
  DeviceMemory a(kM * kK * 2), gate(kK * kN * 2), up(kK * kN * 2), d(kM * kN * 2), aux(kM * 2 * kN * 2);
  MatmulArgs args{.a = a.get(), .b = gate.get(), .b_up = up.get(), .d = d.get(), .shape = {kM, kN, kK},
                  .aux = aux.get()};
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << "was Unsupported before issue 13: " << launched.error().message;
  auto loads = module_loads();
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0]->is_ptx, 0);
  EXPECT_STREQ(loads[0]->arch, "sm_90");
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  expect_launch_invariants(*all[0]);
  EXPECT_EQ(all[0]->block[0], 128u) << "the mma.sync kernel: 4 warps, not 3 warpgroups";
  EXPECT_TRUE(tensor_map_encodes().empty()) << "no TMA on the mma.sync kernel";
}

}  // namespace
}  // namespace tilefuse::fakedriver
