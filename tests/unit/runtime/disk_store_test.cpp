// The disk store: atomic entries, verification, LRU bound, directory rules.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "runtime/CacheEntry.h"
#include "runtime/DiskStore.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::runtime {
namespace {

namespace fs = std::filesystem;
using testing::ScopedEnv;
using testing::TempDir;

std::string key_n(int n) { return fmt::format("{:032x}", n); }

Compiled compiled_of_size(size_t cubin_bytes, int tag) {
  Compiled c;
  c.cubin = std::string(cubin_bytes, static_cast<char>('a' + tag % 26));
  c.ptx = fmt::format("// kernel {}\n", tag);
  c.arch = "sm_80";
  c.registers = tag;
  return c;
}

// Sets an entry's last-used time `seconds_ago` into the past (mtime has
// coarse resolution on some file systems; explicit times keep the order sure).
void age(const DiskStore& store, const std::string& key, int seconds_ago) {
  fs::last_write_time(store.entry_path(key),
                      fs::file_time_type::clock::now() - std::chrono::seconds(seconds_ago));
}

TEST(DiskStore, CreatesDirectoryPrivate) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "a" / "b" / "cache";
  auto store = DiskStore::open(dir);
  ASSERT_TRUE(store) << store.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(DiskStore, StoreThenLoad) {
  TempDir tmp;
  auto store = DiskStore::open(tmp.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->load(key_n(1)).status, DiskStore::LoadStatus::Absent);
  ASSERT_TRUE(store->store(key_n(1), compiled_of_size(100, 1)));
  auto loaded = store->load(key_n(1));
  ASSERT_EQ(loaded.status, DiskStore::LoadStatus::Hit) << loaded.problem;
  EXPECT_EQ(loaded.compiled->cubin, compiled_of_size(100, 1).cubin);
  EXPECT_EQ(loaded.compiled->registers, 1);
  // Only the entry is left behind: no temporary files.
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    if (e.path().filename() != ".lock") ++files;
  EXPECT_EQ(files, 1);
}

TEST(DiskStore, DamagedEntriesAreCorruptNotLoaded) {
  TempDir tmp;
  auto store = DiskStore::open(tmp.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->store(key_n(1), compiled_of_size(1000, 1)));
  const fs::path path = store->entry_path(key_n(1));

  fs::resize_file(path, fs::file_size(path) / 2);
  auto truncated = store->load(key_n(1));
  EXPECT_EQ(truncated.status, DiskStore::LoadStatus::Corrupt);
  EXPECT_FALSE(truncated.compiled);
  EXPECT_NE(truncated.problem.find(path.string()), std::string::npos) << truncated.problem;

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a cache entry at all";
  EXPECT_EQ(store->load(key_n(1)).status, DiskStore::LoadStatus::Corrupt);

  // An entry stored under another key's name is foreign too.
  ASSERT_TRUE(store->store(key_n(2), compiled_of_size(10, 2)));
  fs::copy_file(store->entry_path(key_n(2)), path, fs::copy_options::overwrite_existing);
  auto foreign = store->load(key_n(1));
  EXPECT_EQ(foreign.status, DiskStore::LoadStatus::Corrupt);
  EXPECT_NE(foreign.problem.find("key"), std::string::npos) << foreign.problem;
}

TEST(DiskStore, LruEvictionKeepsTheBound) {
  TempDir tmp;
  const uint64_t entry_bytes = encode_cache_entry(key_n(0), compiled_of_size(10000, 0)).size();
  const uint64_t bound = 3 * entry_bytes + entry_bytes / 2;  // room for three
  auto store = DiskStore::open(tmp.path(), bound);
  ASSERT_TRUE(store);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->store(key_n(i), compiled_of_size(10000, i)));
    age(*store, key_n(i), 100 - i);  // 0 oldest, 2 newest
  }
  // Using entry 0 makes it the most recent; 1 is now the least recently used.
  ASSERT_EQ(store->load(key_n(0)).status, DiskStore::LoadStatus::Hit);
  ASSERT_TRUE(store->store(key_n(3), compiled_of_size(10000, 3)));

  EXPECT_EQ(store->load(key_n(1)).status, DiskStore::LoadStatus::Absent);
  for (int i : {0, 2, 3}) EXPECT_EQ(store->load(key_n(i)).status, DiskStore::LoadStatus::Hit) << i;
  auto stats = store->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->entries, 3u);
  EXPECT_LE(stats->bytes, bound);

  // Many more writes never exceed the bound.
  for (int i = 4; i < 20; ++i) {
    ASSERT_TRUE(store->store(key_n(i), compiled_of_size(10000, i)));
    auto s = store->stats();
    ASSERT_TRUE(s);
    EXPECT_LE(s->bytes, bound) << "after entry " << i;
  }
}

TEST(DiskStore, EvictToZeroEmptiesAndRemovesStaleTemps) {
  TempDir tmp;
  auto store = DiskStore::open(tmp.path());
  ASSERT_TRUE(store);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->store(key_n(i), compiled_of_size(10, i)));
  const fs::path stale = tmp.path() / ".tmp-crashed-writer";
  std::ofstream(stale) << "partial";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(1));
  const fs::path fresh = tmp.path() / ".tmp-live-writer";
  std::ofstream(fresh) << "being written";

  auto removed = store->evict_to(0);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 4u);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh)) << "a live writer's temporary file must survive";
}

TEST(DiskStore, ListStatsAndClear) {
  TempDir tmp;
  auto store = DiskStore::open(tmp.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->store(key_n(1), compiled_of_size(10, 1)));
  ASSERT_TRUE(store->store(key_n(2), compiled_of_size(20, 2)));
  age(*store, key_n(1), 50);
  std::ofstream(store->entry_path(key_n(3))) << "garbage";
  std::ofstream(tmp.path() / "unrelated.txt") << "not ours";

  const auto entries = store->list();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries.back().key, key_n(1)) << "least recently used last";
  int valid = 0;
  for (const auto& e : entries) {
    if (e.valid) {
      ++valid;
      EXPECT_EQ(e.arch, "sm_80");
    } else {
      EXPECT_EQ(e.key, key_n(3));
      EXPECT_NE(e.problem.find("corrupt"), std::string::npos) << e.problem;
    }
  }
  EXPECT_EQ(valid, 2);
  auto stats = store->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->entries, 3u);
  EXPECT_EQ(stats->directory, tmp.path());

  auto cleared = store->clear();
  ASSERT_TRUE(cleared);
  EXPECT_EQ(*cleared, 3u);
  EXPECT_TRUE(store->list().empty());
  EXPECT_TRUE(fs::exists(tmp.path() / "unrelated.txt")) << "clear removes only cache files";
}

TEST(DiskStore, UncreatableDirectoryIsAnIoErrorThatSaysHowToFix) {
  TempDir tmp;
  const fs::path file = tmp.path() / "a-file";
  std::ofstream(file) << "x";
  auto store = DiskStore::open(file / "cache");  // parent is a file: even root cannot
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::IoError);
  EXPECT_NE(store.error().message.find("TILEFUSE_CACHE_DIR"), std::string::npos);
}

TEST(DiskStore, DefaultDirectoryPrecedence) {
  ScopedEnv home("HOME", "/home/u");
  {
    ScopedEnv a("TILEFUSE_CACHE_DIR", "/x/tf");
    ScopedEnv b("XDG_CACHE_HOME", "/x/xdg");
    EXPECT_EQ(*default_cache_dir(), fs::path("/x/tf"));
  }
  {
    ScopedEnv a("TILEFUSE_CACHE_DIR", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", "/x/xdg");
    EXPECT_EQ(*default_cache_dir(), fs::path("/x/xdg/tilefuse"));
  }
  {
    ScopedEnv a("TILEFUSE_CACHE_DIR", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", "");
    EXPECT_EQ(*default_cache_dir(), fs::path("/home/u/.cache/tilefuse"));
    ScopedEnv c("HOME", nullptr);
    EXPECT_FALSE(default_cache_dir());
  }
}

TEST(DiskStore, MaxBytesFromEnvironment) {
  {
    ScopedEnv a("TILEFUSE_CACHE_MAX_BYTES", nullptr);
    EXPECT_EQ(*default_cache_max_bytes(), kDefaultCacheMaxBytes);
  }
  {
    ScopedEnv a("TILEFUSE_CACHE_MAX_BYTES", "512M");
    EXPECT_EQ(*default_cache_max_bytes(), 512ull << 20);
  }
  {
    ScopedEnv a("TILEFUSE_CACHE_MAX_BYTES", "12345");
    EXPECT_EQ(*default_cache_max_bytes(), 12345u);
  }
  for (const char* bad : {"lots", "12Q", "G", "1.5G"}) {
    ScopedEnv a("TILEFUSE_CACHE_MAX_BYTES", bad);
    auto v = default_cache_max_bytes();
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.error().code, ErrorCode::InvalidInput);
  }
}

}  // namespace
}  // namespace tilefuse::runtime
