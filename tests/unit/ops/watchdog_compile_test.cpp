// Issue 13, item 3: TILEFUSE_WATCHDOG=1 makes every mbarrier wait of the
// sm_90a GEMM a bounded wait that reports and traps
// (templates/tilefuse/watchdog_sm90.cuh), and changes nothing else. Checked on
// the PTX NVRTC produces for the same kernel with and without the switch, for
// both schedules (ping-pong has the order-barrier waits, cooperative has not):
// only the watchdog build has the printf (vprintf), the trap and the clock
// reads, and no unbounded spin is left in it; the tensor-core, TMA, register
// reallocation and barrier instructions are the same; neither spills; the
// cache key differs. The sm_80 template has no spin (cp.async.wait_group and
// bar.sync only): its PTX is byte-identical with the switch.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>
#include <string>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "runtime/CacheKey.h"
#include "runtime/Nvrtc.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {
namespace {

using compiler::Arch;
using compiler::TileConfig;

/// Sets or clears TILEFUSE_WATCHDOG for one scope; restores "unset" after.
class WatchdogEnvironment {
 public:
  explicit WatchdogEnvironment(const char* value) {
    if (value) ::setenv("TILEFUSE_WATCHDOG", value, 1);
    else ::unsetenv("TILEFUSE_WATCHDOG");
  }
  ~WatchdogEnvironment() { ::unsetenv("TILEFUSE_WATCHDOG"); }
};

runtime::Source gemm_source(const char* expression, Arch arch, const TileConfig& tile) {
  compiler::KernelSpec spec;
  spec.expression = expression;
  spec.arch = arch;
  spec.tile = tile;
  auto epilogue = compiler::compile(spec);
  EXPECT_TRUE(epilogue) << epilogue.error().message;
  runtime::Source source;
  source.name = "watchdog.cu";
  if (epilogue) source.code = gemm_kernel_source(spec, *epilogue);
  source.kernel_names = {kGemmKernelName};
  source.options.arch = compiler::to_string(arch);
  return source;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

runtime::Compiled compile_with(const runtime::Source& source, const char* watchdog) {
  WatchdogEnvironment environment(watchdog);
  auto compiled = runtime::compile(source);
  EXPECT_TRUE(compiled) << compiled.error().message << "\n" << compiled.error().detail.substr(0, 4000);
  return compiled ? *compiled : runtime::Compiled{};
}

struct Schedule {
  const char* name;
  TileConfig tile;
  int wait_sites;  ///< mbarrier waits in gemm_sm90.cuh that this schedule keeps
};

void PrintTo(const Schedule& s, std::ostream* os) { *os << s.name; }  // readable ctest names

class WatchdogPtx : public ::testing::TestWithParam<Schedule> {};

TEST_P(WatchdogPtx, SwitchBoundsEveryWaitAndChangesNothingElse) {
  const Schedule schedule = GetParam();
  const runtime::Source source = gemm_source("gelu", Arch::Sm90a, schedule.tile);
  const runtime::Compiled plain = compile_with(source, nullptr);
  const runtime::Compiled off = compile_with(source, "0");
  const runtime::Compiled watched = compile_with(source, "1");
  ASSERT_FALSE(plain.ptx.empty());
  ASSERT_FALSE(watched.ptx.empty());

  EXPECT_EQ(off.ptx, plain.ptx) << "TILEFUSE_WATCHDOG=0 must be the same kernel as unset";
  EXPECT_NE(watched.ptx, plain.ptx);

  // Without the switch: the unbounded spins of mbarrier_wait (label tf_wait_),
  // one per wait site, and no watchdog code.
  EXPECT_EQ(count(plain.ptx, "tf_wait_") / 2, schedule.wait_sites) << "label + branch per site";
  EXPECT_EQ(count(plain.ptx, "vprintf"), 0);
  EXPECT_EQ(count(plain.ptx, "trap;"), 0);
  EXPECT_EQ(count(plain.ptx, "%clock64"), 0);

  // With it: no unbounded spin left; each wait re-tests in a loop that reads
  // the clock and leads to the report (vprintf) and the trap.
  EXPECT_EQ(count(watched.ptx, "tf_wait_"), 0) << "an unbounded wait is left in the watchdog build";
  EXPECT_GE(count(watched.ptx, "mbarrier.try_wait.parity"), 2 * schedule.wait_sites);
  EXPECT_GE(count(watched.ptx, "%clock64"), 2 * schedule.wait_sites) << "start and bound check per site";
  EXPECT_GE(count(watched.ptx, "call.uni"), 1);
  EXPECT_GE(count(watched.ptx, "vprintf"), 2) << "declaration and call";
  EXPECT_EQ(count(watched.ptx, "trap;"), 1) << "in the one out-of-line report";

  // The kernel's work is unchanged: tensor cores, TMA, register reallocation
  // and the barrier protocol (init, arrive) are the same instructions.
  for (const char* key : {"wgmma", "cp_async_bulk_tensor", "setmaxnreg", "mma_sync", "ldmatrix"})
    EXPECT_EQ(watched.ptx_instructions.at(key), plain.ptx_instructions.at(key)) << key;
  for (const char* text : {"mbarrier.init", "mbarrier.arrive.shared", "mbarrier.arrive.expect_tx",
                           "wgmma.wait_group", "fence.proxy", "bar.sync"})
    EXPECT_EQ(count(watched.ptx, text), count(plain.ptx, text)) << text;

  EXPECT_EQ(plain.spill_bytes, 0);
  EXPECT_EQ(watched.spill_bytes, 0) << watched.log;
  EXPECT_EQ(plain.ptx_instructions.at("ld_local") + plain.ptx_instructions.at("st_local"), 0);
  std::printf("%s: %d registers without the watchdog, %d with it (stack %d bytes: printf's arguments)\n",
              schedule.name, plain.registers, watched.registers, watched.stack_bytes);
}

INSTANTIATE_TEST_SUITE_P(
    Schedules, WatchdogPtx,
    ::testing::Values(Schedule{"pingpong", {128, 128, 64, 128, 128, 4, 4, 8}, 4},
                      Schedule{"cooperative", {128, 128, 64, 64, 128, 3, 4, 8}, 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Watchdog, IsPartOfTheCacheKeyAndOfTheOptions) {
  const runtime::Source source = gemm_source("silu", Arch::Sm90a, {128, 128, 64, 128, 128, 4, 4, 8});
  std::string plain_key, watched_key;
  std::vector<std::string> plain_options, watched_options;
  {
    WatchdogEnvironment environment(nullptr);
    plain_key = runtime::cache_key(source, "precise");
    plain_options = runtime::nvrtc_options(source.options);
  }
  {
    WatchdogEnvironment environment("1");
    watched_key = runtime::cache_key(source, "precise");
    watched_options = runtime::nvrtc_options(source.options);
  }
  EXPECT_NE(watched_key, plain_key);
  ASSERT_EQ(watched_options.size(), plain_options.size() + 1);
  EXPECT_EQ(watched_options.back(), std::string(runtime::kWatchdogDefine));
  {
    WatchdogEnvironment environment("");  // empty: off
    EXPECT_EQ(runtime::cache_key(source, "precise"), plain_key);
  }
}

TEST(Watchdog, Sm80TemplateHasNoSpinAndIgnoresTheSwitch) {
  // gemm_sm80.cuh waits only with cp.async.wait_group and __syncthreads (bar.sync):
  // nothing to bound, so the define must not change a byte of its PTX.
  const auto target = compiler::make_target(Arch::Sm80);
  const runtime::Source source = gemm_source("gelu", Arch::Sm80, target->default_tile(4096, 4096, 4096));
  const runtime::Compiled plain = compile_with(source, nullptr);
  const runtime::Compiled watched = compile_with(source, "1");
  ASSERT_FALSE(plain.ptx.empty());
  EXPECT_EQ(watched.ptx, plain.ptx);
  EXPECT_EQ(count(plain.ptx, "mbarrier"), 0);
  EXPECT_GT(count(plain.ptx, "cp.async.wait_group"), 0);
}

}  // namespace
}  // namespace tilefuse::ops
