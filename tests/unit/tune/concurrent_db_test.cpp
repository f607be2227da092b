// Concurrent writers of one tuning database file: every record survives,
// whether the writers are threads or processes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "TuneTestSupport.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

const DeviceIdentity kDevice{"NVIDIA A100-SXM4-80GB", 108, 8, 0, 13000, "0.1.0"};
constexpr int kWriters = 4;
constexpr int kUpdatesPerWriter = 15;

/// Writer `w`'s update `i`: a record no other writer produces.
TuningRecord writer_record(int w, int i) {
  TuningRecord r;
  r.signature = "writer" + std::to_string(w);
  r.bucket = {1LL << (i % 10), 4096, 64 + i};
  r.time_ms = 0.001 * (w * 100 + i + 1);
  r.timer = "simulated";
  r.measured_at = utc_timestamp();
  return r;
}

bool write_all(const std::filesystem::path& path, int w) {
  for (int i = 0; i < kUpdatesPerWriter; ++i) {
    const std::vector<TuningRecord> one = {writer_record(w, i)};
    if (!update_tuning_db(path, kDevice, one)) return false;
  }
  return true;
}

void expect_every_record(const std::filesystem::path& path) {
  auto db = read_tuning_db(path, kDevice);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->records().size(), static_cast<std::size_t>(kWriters * kUpdatesPerWriter));
  for (int w = 0; w < kWriters; ++w)
    for (int i = 0; i < kUpdatesPerWriter; ++i) {
      const TuningRecord want = writer_record(w, i);
      const TuningRecord* got = db->find(want.signature, want.bucket, want.config);
      ASSERT_NE(got, nullptr) << w << "/" << i;
      EXPECT_EQ(got->time_ms, want.time_ms);
    }
  // No temporary file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path()))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST(ConcurrentTuningDb, ThreadsNeverLoseEachOthersRecords) {
  testing::ScratchDir dir;
  const auto path = tuning_db_path(dir.path(), kDevice);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] { failures += write_all(path, w) ? 0 : 1; });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  expect_every_record(path);
}

TEST(ConcurrentTuningDb, ProcessesNeverLoseEachOthersRecords) {
  testing::ScratchDir dir;
  const auto path = tuning_db_path(dir.path(), kDevice);
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(write_all(path, w) ? 0 : 1);  // the child only writes and leaves
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  expect_every_record(path);
}

}  // namespace
}  // namespace tilefuse::tune
