// JSON views of the cache's structured results, so that `tilefuse compile
// --json` and `tilefuse cache ls|stats` print them without re-deriving fields.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/DiskStore.h"
#include "runtime/KernelCache.h"

namespace tilefuse::runtime {

/// {"arch", "cache": "hit"|"miss", "cache_detail": "memory-hit"|"disk-hit"|"miss",
///  "key", "compile_ms" (the whole call), "timings_ms": {key, lookup, nvrtc, store},
///  "registers", "spill_bytes", "shared_bytes", "stack_bytes",
///  "ptx_instructions": {...}, "kernels": [{name, registers, ...}]}
nlohmann::json compile_report(const CacheResult& result);

/// {"key", "path", "bytes", "last_used" (seconds since the epoch), "valid",
///  and "arch", "kernels", "registers", "spill_bytes", "shared_bytes" when
///  valid, "problem" when not}.
nlohmann::json entry_report(const CacheEntryInfo& entry);
nlohmann::json entries_report(const std::vector<CacheEntryInfo>& entries);

/// {"directory", "entries", "bytes", "max_bytes"}.
nlohmann::json disk_report(const DiskStats& stats);

/// Counters of one KernelCache, with "disk" as disk_report or null.
nlohmann::json cache_stats_report(const KernelCacheStats& stats);

}  // namespace tilefuse::runtime
