// Eight processes compiling the same key at once into one directory.
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/CacheKey.h"
#include "runtime/DiskStore.h"
#include "unit/runtime/HelperProcess.h"
#include "unit/runtime/SampleEpilogues.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::runtime {
namespace {

namespace fs = std::filesystem;

TEST(KernelCacheProcesses, EightProcessesSameKeyLeaveOneValidEntry) {
  testing::TempDir tmp;
  const fs::path cache_dir = tmp.path() / "cache";
  const fs::path go = tmp.path() / "go";
  std::vector<pid_t> pids;
  for (int i = 0; i < 8; ++i) {
    pid_t pid = testing::spawn_helper("cache", {"TILEFUSE_TEST_CACHE_DIR=" + cache_dir.string(),
                                                "TILEFUSE_TEST_GO=" + go.string()});
    ASSERT_GT(pid, 0);
    pids.push_back(pid);
  }
  std::ofstream(go) << "go";
  for (pid_t pid : pids) EXPECT_EQ(testing::wait_helper(pid), 0) << "helper " << pid;

  int entries = 0, others = 0;
  for (const auto& e : fs::directory_iterator(cache_dir)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".tfk"))
      ++entries;
    else if (name != ".lock")
      ++others;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(others, 0) << "temporary files left behind";

  auto store = DiskStore::open(cache_dir);
  ASSERT_TRUE(store);
  const std::string key = cache_key(testing::silu_source("sm_80"), "precise");
  auto loaded = store->load(key);
  ASSERT_EQ(loaded.status, DiskStore::LoadStatus::Hit) << loaded.problem;
  auto fresh = compile(testing::silu_source("sm_80"));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(loaded.compiled->cubin, fresh->cubin);
}

}  // namespace
}  // namespace tilefuse::runtime
