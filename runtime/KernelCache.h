// The kernel cache: an in-process map in front of a DiskStore.
//
//   get_or_compile(request)
//     key  = cache_key(source, precision mode)
//     memory map hit                       → MemoryHit
//     another thread compiling this key    → wait for it (single flight)
//     disk entry valid                     → DiskHit
//     disk entry corrupt                   → warning, then as a miss
//     otherwise compile, store to disk     → Miss
//
// With no usable directory (unset, missing and not creatable, unwritable) it
// works from memory alone and warns once. Thread-safe; many processes may
// share one directory (atomic renames, see DiskStore.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/DiskStore.h"
#include "runtime/Nvrtc.h"
#include "runtime/Warnings.h"
#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

class ThreadPool;

enum class CacheOutcome { MemoryHit, DiskHit, Miss };
/// "memory-hit" | "disk-hit" | "miss".
const char* to_string(CacheOutcome outcome);
/// True for both kinds of hit (what `tilefuse compile --json` reports as "hit").
inline bool is_hit(CacheOutcome outcome) { return outcome != CacheOutcome::Miss; }

struct CacheRequest {
  Source source;
  std::string precision_mode;  ///< "precise" | "fast"; part of the key
};

struct CacheResult {
  std::shared_ptr<const Compiled> compiled;
  CacheOutcome outcome = CacheOutcome::Miss;
  bool waited_for_other_thread = false;  ///< a MemoryHit that waited on another thread's compile
  std::string key;
  double key_ms = 0;      ///< hashing the source into the key
  double lookup_ms = 0;   ///< memory + disk lookup (includes reading and verifying the entry)
  double compile_ms = 0;  ///< compile function (0 on a hit)
  double store_ms = 0;    ///< writing the disk entry (0 on a hit)
  double total_ms = 0;
};

/// Counters since the cache was created (this process only).
struct KernelCacheStats {
  uint64_t memory_hits = 0, disk_hits = 0, misses = 0;
  uint64_t compiles = 0, compile_failures = 0;
  uint64_t corrupt_entries = 0;       ///< detected, reported, recompiled
  uint64_t disk_write_failures = 0;
  uint64_t memory_entries = 0;
  std::optional<DiskStats> disk;      ///< absent when working from memory only
};

using CompileFunction = std::function<Expected<Compiled>(const Source&)>;

struct KernelCacheOptions {
  /// Directory of the disk store; nullopt: default_cache_dir().
  std::optional<std::filesystem::path> directory;
  bool use_disk = true;
  /// nullopt: default_cache_max_bytes() ($TILEFUSE_CACHE_MAX_BYTES or 1 GiB).
  std::optional<uint64_t> max_disk_bytes;
  /// What a miss runs; tests inject a counting or failing function.
  CompileFunction compile = runtime::compile;
  WarningSink warn = stderr_warning_sink();
  /// Threads for compile_many; 0: one per hardware thread.
  unsigned compile_threads = 0;
};

class KernelCache {
 public:
  explicit KernelCache(KernelCacheOptions options = {});
  ~KernelCache();
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  Expected<CacheResult> get_or_compile(const CacheRequest& request);

  /// get_or_compile for each request on the thread pool; results in order.
  std::vector<Expected<CacheResult>> compile_many(std::span<const CacheRequest> requests);

  KernelCacheStats stats() const;
  /// The disk store, or nullptr when working from memory only.
  const DiskStore* disk() const { return disk_ ? &*disk_ : nullptr; }
  /// Forgets the in-process map (the disk is untouched).
  void clear_memory();

 private:
  using Shared = Expected<std::shared_ptr<const Compiled>>;
  struct Lookup {
    Shared compiled;
    CacheOutcome outcome;
    double compile_ms = 0, store_ms = 0;
  };
  Lookup load_or_compile(const std::string& key, const Source& source);
  void warn_disk_once(const std::string& message);

  KernelCacheOptions options_;
  std::optional<DiskStore> disk_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Compiled>> memory_;
  std::unordered_map<std::string, std::shared_future<Shared>> in_flight_;

  std::once_flag pool_once_;
  std::unique_ptr<ThreadPool> pool_;

  std::atomic<bool> disk_warned_{false};
  std::atomic<uint64_t> memory_hits_{0}, disk_hits_{0}, misses_{0}, compiles_{0},
      compile_failures_{0}, corrupt_entries_{0}, disk_write_failures_{0};
};

/// The process-wide cache with default options (directory and bound from the
/// environment, real NVRTC, warnings to stderr), created on first use.
KernelCache& process_kernel_cache();

}  // namespace tilefuse::runtime
