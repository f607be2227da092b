#include "runtime/KernelCache.h"

#include <chrono>
#include <exception>

#include <fmt/format.h>

#include "runtime/CacheKey.h"
#include "runtime/ThreadPool.h"

namespace tilefuse::runtime {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

const char* to_string(CacheOutcome outcome) {
  switch (outcome) {
    case CacheOutcome::MemoryHit: return "memory-hit";
    case CacheOutcome::DiskHit: return "disk-hit";
    case CacheOutcome::Miss: return "miss";
  }
  return "unknown";
}

KernelCache::KernelCache(KernelCacheOptions options) : options_(std::move(options)) {
  if (!options_.warn) options_.warn = stderr_warning_sink();
  if (!options_.use_disk) return;

  std::filesystem::path directory;
  if (options_.directory) {
    directory = *options_.directory;
  } else if (auto dir = default_cache_dir()) {
    directory = *dir;
  } else {
    warn_disk_once(fmt::format("{}; kernels are cached in memory only", dir.error().message));
    return;
  }
  uint64_t max_bytes = kDefaultCacheMaxBytes;
  if (options_.max_disk_bytes) {
    max_bytes = *options_.max_disk_bytes;
  } else if (auto env_max = default_cache_max_bytes()) {
    max_bytes = *env_max;
  } else {
    options_.warn(fmt::format("{}; using the default bound of {} bytes",
                              env_max.error().message, kDefaultCacheMaxBytes));
  }
  auto store = DiskStore::open(directory, max_bytes);
  if (!store) {
    warn_disk_once(fmt::format("{}; kernels are cached in memory only", store.error().message));
    return;
  }
  disk_.emplace(std::move(*store));
}

KernelCache::~KernelCache() = default;

void KernelCache::warn_disk_once(const std::string& message) {
  if (!disk_warned_.exchange(true))
    options_.warn(fmt::format("{} (further disk cache problems of this kind are not repeated)",
                              message));
}

KernelCache::Lookup KernelCache::load_or_compile(const std::string& key, const Source& source) {
  if (disk_) {
    DiskStore::LoadResult loaded = disk_->load(key);
    if (loaded.status == DiskStore::LoadStatus::Hit)
      return {std::make_shared<const Compiled>(std::move(*loaded.compiled)),
              CacheOutcome::DiskHit};
    if (loaded.status == DiskStore::LoadStatus::Corrupt) {
      ++corrupt_entries_;
      options_.warn(fmt::format("ignoring a bad kernel cache entry ({}); recompiling and "
                                "replacing it",
                                loaded.problem));
    }
  }

  const auto compile_start = Clock::now();
  ++compiles_;
  Expected<Compiled> compiled = options_.compile(source);
  Lookup out{Shared(make_error(ErrorCode::Internal, "unset")), CacheOutcome::Miss};
  out.compile_ms = ms_since(compile_start);
  if (!compiled) {
    ++compile_failures_;
    out.compiled = compiled.take_error();
    return out;
  }
  auto shared = std::make_shared<const Compiled>(std::move(*compiled));

  if (disk_) {
    const auto store_start = Clock::now();
    if (auto stored = disk_->store(key, *shared); !stored) {
      ++disk_write_failures_;
      warn_disk_once(fmt::format("{}; this kernel stays cached in memory only",
                                 stored.error().message));
    }
    out.store_ms = ms_since(store_start);
  }
  out.compiled = std::move(shared);
  return out;
}

Expected<CacheResult> KernelCache::get_or_compile(const CacheRequest& request) {
  const auto start = Clock::now();
  CacheResult result;
  result.key = cache_key(request.source, request.precision_mode);
  result.key_ms = ms_since(start);
  const auto lookup_start = Clock::now();

  std::promise<Shared> promise;
  std::shared_future<Shared> other_thread;
  {
    std::lock_guard lock(mutex_);
    if (auto it = memory_.find(result.key); it != memory_.end()) {
      ++memory_hits_;
      result.compiled = it->second;
      result.outcome = CacheOutcome::MemoryHit;
      result.lookup_ms = ms_since(lookup_start);
      result.total_ms = ms_since(start);
      return result;
    }
    if (auto it = in_flight_.find(result.key); it != in_flight_.end())
      other_thread = it->second;
    else
      in_flight_.emplace(result.key, promise.get_future().share());
  }

  if (other_thread.valid()) {  // single flight: the first asker compiles
    const Shared& shared = other_thread.get();
    if (!shared) return shared.error();
    ++memory_hits_;
    result.compiled = *shared;
    result.outcome = CacheOutcome::MemoryHit;
    result.waited_for_other_thread = true;
    result.lookup_ms = ms_since(lookup_start);
    result.total_ms = ms_since(start);
    return result;
  }

  // An injected compile function may throw; waiters must still be released.
  Lookup lookup{Shared(make_error(ErrorCode::Internal, "unset")), CacheOutcome::Miss};
  try {
    lookup = load_or_compile(result.key, request.source);
  } catch (const std::exception& e) {
    lookup.compiled = make_error(ErrorCode::Internal,
                                 fmt::format("compiling '{}' threw: {}", request.source.name,
                                             e.what()));
  } catch (...) {
    lookup.compiled = make_error(
        ErrorCode::Internal,
        fmt::format("compiling '{}' threw an unknown exception", request.source.name));
  }
  {
    std::lock_guard lock(mutex_);
    if (lookup.compiled) memory_[result.key] = *lookup.compiled;
    in_flight_.erase(result.key);
  }
  promise.set_value(lookup.compiled);
  if (!lookup.compiled) return lookup.compiled.error();

  (lookup.outcome == CacheOutcome::DiskHit ? disk_hits_ : misses_)++;
  result.compiled = *lookup.compiled;
  result.outcome = lookup.outcome;
  result.compile_ms = lookup.compile_ms;
  result.store_ms = lookup.store_ms;
  result.lookup_ms = ms_since(lookup_start) - lookup.compile_ms - lookup.store_ms;
  result.total_ms = ms_since(start);
  return result;
}

std::vector<Expected<CacheResult>> KernelCache::compile_many(
    std::span<const CacheRequest> requests) {
  std::call_once(pool_once_,
                 [this] { pool_ = std::make_unique<ThreadPool>(options_.compile_threads); });
  std::vector<std::future<Expected<CacheResult>>> futures;
  futures.reserve(requests.size());
  for (const CacheRequest& r : requests)
    futures.push_back(pool_->submit([this, &r] { return get_or_compile(r); }));
  std::vector<Expected<CacheResult>> results;
  results.reserve(requests.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

KernelCacheStats KernelCache::stats() const {
  KernelCacheStats s;
  s.memory_hits = memory_hits_;
  s.disk_hits = disk_hits_;
  s.misses = misses_;
  s.compiles = compiles_;
  s.compile_failures = compile_failures_;
  s.corrupt_entries = corrupt_entries_;
  s.disk_write_failures = disk_write_failures_;
  {
    std::lock_guard lock(mutex_);
    s.memory_entries = memory_.size();
  }
  if (disk_)
    if (auto d = disk_->stats()) s.disk = *d;
  return s;
}

void KernelCache::clear_memory() {
  std::lock_guard lock(mutex_);
  memory_.clear();
}

KernelCache& process_kernel_cache() {
  static KernelCache cache;
  return cache;
}

}  // namespace tilefuse::runtime
