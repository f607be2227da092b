// JSON reports carry the fields the CLI prints.
#include <gtest/gtest.h>

#include "runtime/CacheReport.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::runtime {
namespace {

TEST(CacheReport, CompileReportHasTheCliFields) {
  auto compiled = std::make_shared<Compiled>();
  compiled->arch = "sm_90a";
  compiled->registers = 40;
  compiled->spill_bytes = 0;
  compiled->shared_bytes = 2048;
  compiled->kernels = {KernelResources{"tf_elementwise", 40, 0, 2048, 0}};
  compiled->ptx_instructions = {{"wgmma", 12}, {"ld_local", 0}};
  compiled->performance_warnings = {"(C7520) Potential Performance Loss: wgmma.mma_async serialized"};
  CacheResult r;
  r.compiled = compiled;
  r.outcome = CacheOutcome::DiskHit;
  r.key = "abc";
  r.total_ms = 1.25;
  r.lookup_ms = 0.75;

  const auto j = compile_report(r);
  EXPECT_EQ(j.at("arch"), "sm_90a");
  EXPECT_EQ(j.at("cache"), "hit");
  EXPECT_EQ(j.at("cache_detail"), "disk-hit");
  EXPECT_EQ(j.at("compile_ms"), 1.25);
  EXPECT_EQ(j.at("timings_ms").at("lookup"), 0.75);
  EXPECT_EQ(j.at("registers"), 40);
  EXPECT_EQ(j.at("spill_bytes"), 0);
  EXPECT_EQ(j.at("shared_bytes"), 2048);
  EXPECT_EQ(j.at("ptx_instructions").at("wgmma"), 12);
  EXPECT_EQ(j.at("kernels").at(0).at("name"), "tf_elementwise");
  ASSERT_EQ(j.at("ptxas_performance_warnings").size(), 1u);
  EXPECT_EQ(j.at("ptxas_performance_warnings").at(0), compiled->performance_warnings[0]);

  r.outcome = CacheOutcome::Miss;
  EXPECT_EQ(compile_report(r).at("cache"), "miss");
}

TEST(CacheReport, EntriesAndStatsFromARealDirectory) {
  testing::TempDir tmp;
  auto store = DiskStore::open(tmp.path());
  ASSERT_TRUE(store);
  Compiled c;
  c.arch = "sm_80";
  c.kernels = {KernelResources{"k", 8, 0, 0, 0}};
  ASSERT_TRUE(store->store(std::string(32, 'a'), c));
  const auto entries = entries_report(store->list());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("valid"), true);
  EXPECT_EQ(entries[0].at("arch"), "sm_80");
  EXPECT_EQ(entries[0].at("kernels").at(0), "k");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_NEAR(entries[0].at("last_used").get<double>(), static_cast<double>(now), 5.0);

  const auto disk = disk_report(*store->stats());
  EXPECT_EQ(disk.at("entries"), 1);
  EXPECT_EQ(disk.at("directory"), tmp.path().string());
  EXPECT_EQ(disk.at("max_bytes"), kDefaultCacheMaxBytes);
}

}  // namespace
}  // namespace tilefuse::runtime
