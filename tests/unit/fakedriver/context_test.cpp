// Contexts as the launch path sees them: a context at every launch (also from
// a thread that never chose one), compile() that leaves the thread's context
// alone, and cached contexts/kernels after a primary-context reset
// (cudaDeviceReset), in both ways a driver may hand the context back.
#include <thread>

#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

using ContextTest = FakeDriverTest;

MatmulOp relu_op(const Runtime& rt) {
  auto op = rt.matmul({.activation = "relu", .dtype = DType::BF16});
  if (!op) throw std::runtime_error(op.error().message);
  return *op;
}

/// The fake's number for the thread that made the last recorded call.
unsigned long long last_caller() {
  const std::size_t n = fake().tf_fake_call_count();
  return n ? fake().tf_fake_call(n - 1)->thread : 0;
}

std::vector<std::string> calls_of_thread(unsigned long long thread) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < fake().tf_fake_call_count(); ++i)
    if (fake().tf_fake_call(i)->thread == thread) names.emplace_back(fake().tf_fake_call(i)->name);
  return names;
}

TEST_F(ContextTest, CompileOnAThreadWithoutAContextLeavesItWithout) {
  Runtime rt = heuristic_runtime();
  MatmulOp op = relu_op(rt);
  const runtime::DriverApi& api = driver_api();
  Expected<KernelInfo> info = make_error(ErrorCode::Internal, "not run");
  CUcontext after = reinterpret_cast<CUcontext>(1);
  std::thread worker([&] {
    info = op.compile({200, 136, 72}, Arch::Sm80);
    api.cuCtxGetCurrent(&after);
  });
  worker.join();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(after, nullptr) << "compile() made a context current on a thread that had none";
  const auto names = calls_of_thread(last_caller());
  for (const std::string& name : names) {
    EXPECT_NE(name, "cuCtxSetCurrent") << "compile() changed the thread's current context";
    EXPECT_NE(name, "cuDevicePrimaryCtxRetain") << "compile() retained (activated) a primary context";
  }
}

TEST_F(ContextTest, LaunchFromAThreadWithoutAContextUsesDeviceZerosPrimary) {
  Runtime rt = heuristic_runtime();
  MatmulOp op = relu_op(rt);
  CUcontext device0 = use_device(kSm80Device);  // also warms the kernel on this thread
  DeviceMemory a(200 * 72 * 2), b(72 * 136 * 2 + 16), d(200 * 136 * 2 + 16);
  const Shape shape{200, 136, 72};
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = shape, .ldb = 144, .ldd = 144};
  ASSERT_TRUE(op(nullptr, args));
  Expected<void> launched = make_error(ErrorCode::Internal, "not run");
  std::thread worker([&] { launched = op(nullptr, args); });
  worker.join();
  ASSERT_TRUE(launched) << launched.error().message;
  auto all = launches();
  ASSERT_EQ(all.size(), 2u);
  for (const TfFakeLaunch* l : all) {
    expect_launch_invariants(*l);
    EXPECT_EQ(l->context, device0) << "like the CUDA runtime: device 0's primary context";
  }
}

/// A kernel launched, the primary context reset (cudaDeviceReset), and then
/// what the application does next; the following launch must work.
class AfterReset : public FakeDriverTest, public ::testing::WithParamInterface<int> {};

enum ResetCase {
  kNothingElse,           ///< the thread's current slot still names the reset context
  kRuntimeReactivates,    ///< e.g. cudaMalloc: the same handle, retained and current again
  kNewHandle,             ///< a driver that hands out a new handle: retained and made current
  kNewHandleNothingElse,  ///< a new handle, and the slot still names the destroyed one
};

TEST_P(AfterReset, TheNextLaunchReloadsTheKernel) {
  const int what = GetParam();
  Runtime rt = heuristic_runtime();
  MatmulOp op = relu_op(rt);
  use_device(kSm80Device);
  DeviceMemory a(200 * 72 * 2), b(72 * 144 * 2), d(200 * 144 * 2);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {200, 136, 72}, .ldb = 144, .ldd = 144};
  ASSERT_TRUE(op(nullptr, args));
  const std::size_t loads_before = fake().tf_fake_module_load_count();

  const bool new_handle = what == kNewHandle || what == kNewHandleNothingElse;
  ASSERT_EQ(fake().tf_fake_reset_primary_context(kSm80Device, new_handle ? 1 : 0), 0);
  CUcontext expected = nullptr;
  if (what == kRuntimeReactivates || what == kNewHandle) expected = use_device(kSm80Device);

  auto again = op(nullptr, args);
  ASSERT_TRUE(again) << again.error().message;
  auto all = launches();
  ASSERT_EQ(all.size(), 2u);
  expect_launch_invariants(*all[1]);
  if (expected) EXPECT_EQ(all[1]->context, expected);
  EXPECT_EQ(fake().tf_fake_module_load_count(), loads_before + 1) << "the kernel was not loaded again";
  CUcontext current = nullptr;
  driver_api().cuCtxGetCurrent(&current);
  EXPECT_EQ(current, all[1]->context) << "the launch's context is left current";
}

std::string reset_case_name(const ::testing::TestParamInfo<int>& info) {
  static const char* const names[] = {"NothingElse", "RuntimeReactivates", "NewHandle", "NewHandleNothingElse"};
  return names[info.param];
}

INSTANTIATE_TEST_SUITE_P(Context, AfterReset,
                         ::testing::Values(kNothingElse, kRuntimeReactivates, kNewHandle, kNewHandleNothingElse),
                         reset_case_name);

}  // namespace
}  // namespace tilefuse::fakedriver
