#include "runtime/CacheReport.h"

#include <chrono>

namespace tilefuse::runtime {

using nlohmann::json;

json compile_report(const CacheResult& r) {
  const Compiled& c = *r.compiled;
  json kernels = json::array();
  for (const auto& k : c.kernels)
    kernels.push_back({{"name", k.name},
                       {"registers", k.registers},
                       {"spill_bytes", k.spill_bytes},
                       {"shared_bytes", k.shared_bytes},
                       {"stack_bytes", k.stack_bytes}});
  return {{"arch", c.arch},
          {"cache", is_hit(r.outcome) ? "hit" : "miss"},
          {"cache_detail", to_string(r.outcome)},
          {"key", r.key},
          {"compile_ms", r.total_ms},
          {"timings_ms",
           {{"key", r.key_ms}, {"lookup", r.lookup_ms}, {"nvrtc", r.compile_ms},
            {"store", r.store_ms}}},
          {"registers", c.registers},
          {"spill_bytes", c.spill_bytes},
          {"shared_bytes", c.shared_bytes},
          {"stack_bytes", c.stack_bytes},
          {"ptx_instructions", c.ptx_instructions},
          {"ptxas_performance_warnings", c.performance_warnings},
          {"kernels", kernels}};
}

json entry_report(const CacheEntryInfo& e) {
  // file_time_type's clock is not system_clock in C++20 libraries that lack
  // clock_cast; convert through the difference to "now" on both clocks.
  const auto age = std::filesystem::file_time_type::clock::now() - e.last_used;
  const auto last_used = std::chrono::system_clock::now() -
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
  json out = {{"key", e.key},
              {"path", e.path.string()},
              {"bytes", e.bytes},
              {"last_used",
               std::chrono::duration_cast<std::chrono::seconds>(last_used.time_since_epoch())
                   .count()},
              {"valid", e.valid}};
  if (e.valid) {
    out["arch"] = e.arch;
    out["kernels"] = e.kernels;
    out["registers"] = e.registers;
    out["spill_bytes"] = e.spill_bytes;
    out["shared_bytes"] = e.shared_bytes;
  } else {
    out["problem"] = e.problem;
  }
  return out;
}

json entries_report(const std::vector<CacheEntryInfo>& entries) {
  json out = json::array();
  for (const auto& e : entries) out.push_back(entry_report(e));
  return out;
}

json disk_report(const DiskStats& s) {
  return {{"directory", s.directory.string()},
          {"entries", s.entries},
          {"bytes", s.bytes},
          {"max_bytes", s.max_bytes}};
}

json cache_stats_report(const KernelCacheStats& s) {
  return {{"memory_hits", s.memory_hits},
          {"disk_hits", s.disk_hits},
          {"misses", s.misses},
          {"compiles", s.compiles},
          {"compile_failures", s.compile_failures},
          {"corrupt_entries", s.corrupt_entries},
          {"disk_write_failures", s.disk_write_failures},
          {"memory_entries", s.memory_entries},
          {"disk", s.disk ? disk_report(*s.disk) : json(nullptr)}};
}

}  // namespace tilefuse::runtime
