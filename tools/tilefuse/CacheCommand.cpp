// `tilefuse cache ls|stats|clear`: inspect or empty the on-disk kernel cache.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliSupport.h"
#include "runtime/CacheReport.h"
#include "runtime/DiskStore.h"

namespace tilefuse::cli {
namespace {

Expected<runtime::DiskStore> open_store() {
  auto dir = runtime::default_cache_dir();
  if (!dir) return dir.take_error();
  auto max_bytes = runtime::default_cache_max_bytes();
  if (!max_bytes) return max_bytes.take_error();
  return runtime::DiskStore::open(*dir, *max_bytes);
}

std::string age(std::filesystem::file_time_type when) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::filesystem::file_time_type::clock::now() - when)
                           .count();
  if (seconds < 120) return fmt::format("{}s ago", seconds);
  if (seconds < 7200) return fmt::format("{}m ago", seconds / 60);
  return fmt::format("{}h ago", seconds / 3600);
}

int run_cache(const std::string& action, bool json) {
  auto store = open_store();
  if (!store) return report_error(store.error());
  if (action == "clear") {
    auto removed = store->clear();
    if (!removed) return report_error(removed.error());
    if (json) fmt::print("{}\n", nlohmann::json{{"removed", *removed}}.dump(2));
    else fmt::print("removed {} entries from {}\n", *removed, store->directory().string());
    return kExitOk;
  }
  if (action == "stats") {
    auto stats = store->stats();
    if (!stats) return report_error(stats.error());
    if (json) {
      fmt::print("{}\n", runtime::disk_report(*stats).dump(2));
    } else {
      fmt::print("directory  {}\nentries    {}\nsize       {:.1f} MiB of {:.1f} MiB\n",
                 stats->directory.string(), stats->entries, stats->bytes / 1048576.0,
                 stats->max_bytes / 1048576.0);
    }
    return kExitOk;
  }
  const auto entries = store->list();
  if (json) {
    fmt::print("{}\n", runtime::entries_report(entries).dump(2));
    return kExitOk;
  }
  fmt::print("{:<34} {:>9} {:>10} {:<7} {:>5}  {}\n", "key", "bytes", "used", "arch", "regs", "kernels");
  for (const auto& e : entries) {
    std::string kernels;
    for (const auto& k : e.kernels) kernels += (kernels.empty() ? "" : ",") + k;
    if (e.valid)
      fmt::print("{:<34} {:>9} {:>10} {:<7} {:>5}  {}\n", e.key, e.bytes, age(e.last_used), e.arch,
                 e.registers, kernels);
    else
      fmt::print("{:<34} {:>9} {:>10} INVALID: {}\n", e.key, e.bytes, age(e.last_used), e.problem);
  }
  fmt::print("{} entries in {}\n", entries.size(), store->directory().string());
  return kExitOk;
}

}  // namespace

void add_cache_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("cache", "inspect or clear the kernel cache (ls | stats | clear)");
  auto action = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("action", *action, "ls | stats | clear")
      ->required()
      ->check(CLI::IsMember({"ls", "stats", "clear"}));
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([action, json, &exit_code] { exit_code = run_cache(*action, *json); });
}

}  // namespace tilefuse::cli
