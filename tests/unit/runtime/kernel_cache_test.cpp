// The kernel cache: memory map, disk store, single flight, damage recovery,
// memory-only fallback. Most tests inject a fake compile function that counts
// calls; the last ones run real NVRTC.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "runtime/CacheKey.h"
#include "runtime/KernelCache.h"
#include "unit/runtime/SampleEpilogues.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::runtime {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A compile function that records how often it ran and returns a Compiled
// derived from the source, so a wrong entry is visible.
struct FakeCompiler {
  std::atomic<int> calls{0};
  std::chrono::milliseconds delay{0};

  CompileFunction function() {
    return [this](const Source& s) -> Expected<Compiled> {
      ++calls;
      std::this_thread::sleep_for(delay);
      Compiled c;
      c.ptx = "// ptx of\n" + s.code;
      c.cubin = "cubin of " + s.code;
      c.arch = s.options.arch;
      c.registers = 32;
      return c;
    };
  }
};

// Collects warnings instead of printing them.
struct Warnings {
  std::mutex mutex;
  std::vector<std::string> messages;
  WarningSink sink() {
    return [this](std::string_view m) {
      std::lock_guard lock(mutex);
      messages.emplace_back(m);
    };
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

CacheRequest request(std::string code, std::string arch = "sm_80",
                     std::string precision = "precise") {
  CacheRequest r;
  r.source.name = "fake.cu";
  r.source.code = std::move(code);
  r.source.kernel_names = {"k"};
  r.source.options.arch = std::move(arch);
  r.precision_mode = std::move(precision);
  return r;
}

KernelCacheOptions options_for(const fs::path& dir, FakeCompiler& compiler, Warnings& warnings) {
  KernelCacheOptions o;
  o.directory = dir;
  o.max_disk_bytes = kDefaultCacheMaxBytes;
  o.compile = compiler.function();
  o.warn = warnings.sink();
  return o;
}

TEST(KernelCache, MissThenMemoryHitThenDiskHitInAFreshCache) {
  TempDir tmp;
  FakeCompiler compiler;
  Warnings warnings;
  const CacheRequest req = request("kernel A");
  {
    KernelCache cache(options_for(tmp.path(), compiler, warnings));
    auto first = cache.get_or_compile(req);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->outcome, CacheOutcome::Miss);
    EXPECT_EQ(first->key, cache_key(req.source, req.precision_mode));
    EXPECT_EQ(first->compiled->cubin, "cubin of kernel A");
    auto second = cache.get_or_compile(req);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->outcome, CacheOutcome::MemoryHit);
    EXPECT_EQ(second->compiled, first->compiled) << "a memory hit shares the same object";
    EXPECT_TRUE(fs::exists(cache.disk()->entry_path(first->key)));
  }
  KernelCache next_process(options_for(tmp.path(), compiler, warnings));
  auto third = next_process.get_or_compile(req);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->outcome, CacheOutcome::DiskHit);
  EXPECT_EQ(third->compiled->cubin, "cubin of kernel A");
  EXPECT_EQ(third->compiled->registers, 32);
  EXPECT_EQ(compiler.calls, 1);
  EXPECT_EQ(warnings.count(), 0u);

  const auto stats = next_process.stats();
  EXPECT_EQ(stats.disk_hits, 1u);
  EXPECT_EQ(stats.misses, 0u);
  ASSERT_TRUE(stats.disk);
  EXPECT_EQ(stats.disk->entries, 1u);
}

TEST(KernelCache, AnyKeyComponentChangeMisses) {
  TempDir tmp;
  FakeCompiler compiler;
  Warnings warnings;
  KernelCache cache(options_for(tmp.path(), compiler, warnings));
  const CacheRequest base = request("kernel A");
  ASSERT_EQ(cache.get_or_compile(base)->outcome, CacheOutcome::Miss);

  CacheRequest other_option = base;
  other_option.source.options.extra = {"--use_fast_math"};
  CacheRequest other_kernel_names = base;
  other_kernel_names.source.kernel_names = {"k2"};
  for (const CacheRequest& changed :
       {request("kernel B"), request("kernel A", "sm_90a"), request("kernel A", "sm_80", "fast"),
        other_option, other_kernel_names}) {
    auto r = cache.get_or_compile(changed);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, CacheOutcome::Miss) << changed.source.code << " "
                                              << changed.source.options.arch << " "
                                              << changed.precision_mode;
  }
  EXPECT_EQ(cache.get_or_compile(base)->outcome, CacheOutcome::MemoryHit);
  EXPECT_EQ(compiler.calls, 6);
  ASSERT_TRUE(cache.stats().disk);
  EXPECT_EQ(cache.stats().disk->entries, 6u);
}

enum class Damage { Truncate, FlipBit, Garbage, Empty };

class DamagedEntry : public ::testing::TestWithParam<Damage> {};

TEST_P(DamagedEntry, IsReportedRecompiledAndReplaced) {
  TempDir tmp;
  FakeCompiler compiler;
  Warnings warnings;
  const CacheRequest req = request("kernel A");
  fs::path entry;
  {
    KernelCache cache(options_for(tmp.path(), compiler, warnings));
    auto r = cache.get_or_compile(req);
    ASSERT_TRUE(r);
    entry = cache.disk()->entry_path(r->key);
  }
  std::string bytes;
  {
    std::ifstream in(entry, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  switch (GetParam()) {
    case Damage::Truncate: bytes.resize(bytes.size() - 7); break;
    case Damage::FlipBit: bytes[bytes.size() - 3] ^= 0x10; break;
    case Damage::Garbage: bytes = std::string(bytes.size(), '\x5a'); break;
    case Damage::Empty: bytes.clear(); break;
  }
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << bytes;

  KernelCache cache(options_for(tmp.path(), compiler, warnings));
  auto r = cache.get_or_compile(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->outcome, CacheOutcome::Miss) << "a damaged entry must never be loaded";
  EXPECT_EQ(r->compiled->cubin, "cubin of kernel A");
  EXPECT_EQ(compiler.calls, 2);
  ASSERT_EQ(warnings.count(), 1u);
  EXPECT_NE(warnings.messages[0].find("bad kernel cache entry"), std::string::npos)
      << warnings.messages[0];
  EXPECT_NE(warnings.messages[0].find(entry.string()), std::string::npos) << warnings.messages[0];
  EXPECT_EQ(cache.stats().corrupt_entries, 1u);

  // Replaced by a valid entry.
  KernelCache after(options_for(tmp.path(), compiler, warnings));
  auto again = after.get_or_compile(req);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, CacheOutcome::DiskHit);
  EXPECT_EQ(compiler.calls, 2);
}

INSTANTIATE_TEST_SUITE_P(Kinds, DamagedEntry,
                         ::testing::Values(Damage::Truncate, Damage::FlipBit, Damage::Garbage,
                                           Damage::Empty),
                         [](const auto& info) {
                           switch (info.param) {
                             case Damage::Truncate: return "Truncate";
                             case Damage::FlipBit: return "FlipBit";
                             case Damage::Garbage: return "Garbage";
                             case Damage::Empty: return "Empty";
                           }
                           return "Unknown";
                         });

TEST(KernelCache, UnusableDirectoryWorksFromMemoryAndWarnsOnce) {
  TempDir tmp;
  std::ofstream(tmp.path() / "a-file") << "x";
  FakeCompiler compiler;
  Warnings warnings;
  KernelCache cache(options_for(tmp.path() / "a-file" / "cache", compiler, warnings));
  EXPECT_EQ(cache.disk(), nullptr);
  for (const char* code : {"kernel A", "kernel B", "kernel C"}) {
    auto r = cache.get_or_compile(request(code));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->outcome, CacheOutcome::Miss);
  }
  EXPECT_EQ(cache.get_or_compile(request("kernel A"))->outcome, CacheOutcome::MemoryHit);
  ASSERT_EQ(warnings.count(), 1u);
  EXPECT_NE(warnings.messages[0].find("memory only"), std::string::npos) << warnings.messages[0];
  EXPECT_FALSE(cache.stats().disk);
}

TEST(KernelCache, DirectoryVanishingLaterWarnsOnceAndKeepsWorking) {
  TempDir tmp;
  FakeCompiler compiler;
  Warnings warnings;
  KernelCache cache(options_for(tmp.path() / "cache", compiler, warnings));
  ASSERT_NE(cache.disk(), nullptr);
  fs::remove_all(tmp.path() / "cache");
  for (const char* code : {"kernel A", "kernel B"}) {
    auto r = cache.get_or_compile(request(code));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->outcome, CacheOutcome::Miss);
  }
  EXPECT_EQ(cache.get_or_compile(request("kernel B"))->outcome, CacheOutcome::MemoryHit);
  EXPECT_EQ(warnings.count(), 1u);
  EXPECT_EQ(cache.stats().disk_write_failures, 2u);
}

TEST(KernelCache, SixteenThreadsCauseOneCompile) {
  TempDir tmp;
  FakeCompiler compiler;
  compiler.delay = std::chrono::milliseconds(200);  // all threads arrive during the compile
  Warnings warnings;
  KernelCache cache(options_for(tmp.path(), compiler, warnings));
  const CacheRequest req = request("kernel A");

  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::vector<std::optional<Expected<CacheResult>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i].emplace(cache.get_or_compile(req));
    });
  for (auto& t : threads) t.join();

  EXPECT_EQ(compiler.calls, 1);
  int misses = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r && *r) << (*r).error().message;
    EXPECT_EQ((**r).compiled, (*results[0])->compiled) << "all share one Compiled";
    if ((**r).outcome == CacheOutcome::Miss) ++misses;
  }
  EXPECT_EQ(misses, 1);
}

TEST(KernelCache, CompileFailureReachesEveryWaiterAndIsNotCached) {
  TempDir tmp;
  std::atomic<int> calls{0};
  Warnings warnings;
  KernelCacheOptions o;
  o.directory = tmp.path();
  o.warn = warnings.sink();
  o.compile = [&](const Source&) -> Expected<Compiled> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return make_error(ErrorCode::CompileFailed, "boom", "the log");
  };
  KernelCache cache(o);
  std::latch start(8);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto r = cache.get_or_compile(request("bad"));
      if (!r && r.error().code == ErrorCode::CompileFailed && r.error().message == "boom" &&
          r.error().detail == "the log")
        ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 8);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(cache.get_or_compile(request("bad")));
  EXPECT_EQ(calls, 2) << "a failure must be retried, not cached";
  EXPECT_EQ(cache.stats().compile_failures, 2u);
  EXPECT_TRUE(cache.disk()->list().empty());
}

TEST(KernelCache, ThrowingCompileFunctionBecomesAnError) {
  TempDir tmp;
  KernelCacheOptions o;
  o.directory = tmp.path();
  o.compile = [](const Source&) -> Expected<Compiled> { throw std::runtime_error("oops"); };
  KernelCache cache(o);
  auto r = cache.get_or_compile(request("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Internal);
  EXPECT_NE(r.error().message.find("oops"), std::string::npos);
}

TEST(KernelCache, CompileManyCompilesDifferentKernelsInParallel) {
  TempDir tmp;
  Warnings warnings;
  std::mutex mutex;
  std::condition_variable cv;
  int active = 0, max_active = 0;
  KernelCacheOptions o;
  o.directory = tmp.path();
  o.warn = warnings.sink();
  o.compile_threads = 4;
  o.compile = [&](const Source& s) -> Expected<Compiled> {
    std::unique_lock lock(mutex);
    max_active = std::max(max_active, ++active);
    cv.notify_all();
    // Wait (bounded) for a second compile to overlap with this one.
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return max_active >= 2; });
    --active;
    Compiled c;
    c.cubin = s.code;
    c.arch = s.options.arch;
    return c;
  };
  KernelCache cache(o);
  std::vector<CacheRequest> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(request(fmt::format("kernel {}", i)));
  requests.push_back(request("kernel 0"));  // duplicate: one compile, two results
  auto results = cache.compile_many(requests);
  ASSERT_EQ(results.size(), requests.size());
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().message;
    EXPECT_EQ(results[i]->compiled->cubin, requests[i].source.code) << "results keep their order";
  }
  EXPECT_GE(max_active, 2);
  EXPECT_EQ(cache.stats().compiles, 6u);
}

// ---- real NVRTC through the cache -------------------------------------------

TEST(KernelCacheNvrtc, ColdCompileThenWarmDiskLoad) {
  TempDir tmp;
  Warnings warnings;
  KernelCacheOptions o;
  o.directory = tmp.path();
  o.warn = warnings.sink();
  const CacheRequest req{testing::silu_source("sm_90a", 4, true, 2), "precise"};
  double cold_ms = 0;
  {
    KernelCache cache(o);
    auto cold = cache.get_or_compile(req);
    ASSERT_TRUE(cold) << cold.error().message << cold.error().detail;
    EXPECT_EQ(cold->outcome, CacheOutcome::Miss);
    EXPECT_EQ(cold->compiled->spill_bytes, 0);
    cold_ms = cold->total_ms;
  }
  KernelCache cache(o);
  auto warm = cache.get_or_compile(req);
  ASSERT_TRUE(warm);
  EXPECT_EQ(warm->outcome, CacheOutcome::DiskHit);
  EXPECT_EQ(warm->compile_ms, 0.0);
  EXPECT_LE(warm->total_ms, 0.1 * cold_ms) << "cold " << cold_ms << " ms";
  auto fresh = compile(req.source);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(warm->compiled->cubin, fresh->cubin);
  EXPECT_EQ(warm->compiled->registers, fresh->registers);
  EXPECT_EQ(warnings.count(), 0u);
}

// The bar through the API: miss, hit, then every file overwritten
// with garbage → the next process recompiles (miss) and succeeds.
TEST(KernelCacheNvrtc, GarbageOverEveryFileIsRecompiled) {
  TempDir tmp;
  Warnings warnings;
  KernelCacheOptions o;
  o.directory = tmp.path();
  o.warn = warnings.sink();
  const CacheRequest req{testing::silu_source("sm_80"), "fast"};
  for (CacheOutcome expected : {CacheOutcome::Miss, CacheOutcome::DiskHit}) {
    KernelCache cache(o);
    auto r = cache.get_or_compile(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->outcome, expected);
  }
  int overwritten = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "garbage";
    ++overwritten;
  }
  EXPECT_GE(overwritten, 1);
  KernelCache cache(o);
  auto r = cache.get_or_compile(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->outcome, CacheOutcome::Miss);
  EXPECT_EQ(r->compiled->spill_bytes, 0);
  EXPECT_FALSE(r->compiled->cubin.empty());
  EXPECT_EQ(warnings.count(), 1u);
}

}  // namespace
}  // namespace tilefuse::runtime
