// The disk half of the kernel cache: one file per key in one directory.
//
// Writes go to a temporary file in the same directory, are fsynced and then
// renamed into place, so a reader in any process sees a whole entry or none.
// Reads verify the entry (see CacheEntry.h); a bad one is reported and never
// loaded. The directory is bounded: after each write, the least recently used
// entries (file mtime, touched on every hit) are removed until the total is
// under the bound; a lock file serializes eviction between processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/Nvrtc.h"
#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t{1} << 30;  // 1 GiB

/// $TILEFUSE_CACHE_DIR, else $XDG_CACHE_HOME/tilefuse, else
/// $HOME/.cache/tilefuse; InvalidInput when none of them is set.
Expected<std::filesystem::path> default_cache_dir();

/// The disk bound: $TILEFUSE_CACHE_MAX_BYTES ("512M", "2G", "1048576") if
/// set, else kDefaultCacheMaxBytes; InvalidInput for a malformed value.
Expected<uint64_t> default_cache_max_bytes();

/// One entry as `tilefuse cache ls` shows it.
struct CacheEntryInfo {
  std::string key;
  std::filesystem::path path;
  uint64_t bytes = 0;
  std::filesystem::file_time_type last_used;
  bool valid = false;        ///< decodes and verifies
  std::string problem;       ///< why not, when !valid
  std::string arch;          ///< from the entry, when valid
  std::vector<std::string> kernels;
  int registers = 0, spill_bytes = 0, shared_bytes = 0;
};

struct DiskStats {
  std::filesystem::path directory;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
};

class DiskStore {
 public:
  /// Opens (creating with mode 0700 if needed) `directory` and checks that a
  /// file can be created in it. IoError, saying why, when it cannot.
  static Expected<DiskStore> open(std::filesystem::path directory,
                                  uint64_t max_bytes = kDefaultCacheMaxBytes);

  const std::filesystem::path& directory() const { return directory_; }
  uint64_t max_bytes() const { return max_bytes_; }
  std::filesystem::path entry_path(const std::string& key) const;

  enum class LoadStatus { Hit, Absent, Corrupt };
  struct LoadResult {
    LoadStatus status = LoadStatus::Absent;
    std::optional<Compiled> compiled;  ///< set iff Hit
    std::string problem;               ///< why, iff Corrupt
  };
  /// Reads and verifies the entry for `key`; a hit marks it recently used.
  LoadResult load(const std::string& key) const;

  /// Atomically writes (or replaces) the entry for `key`, then evicts down
  /// to max_bytes().
  Expected<void> store(const std::string& key, const Compiled& compiled) const;

  /// Removes least recently used entries until the directory holds at most
  /// `max_bytes`; returns how many were removed. Also removes temporary
  /// files that a crashed writer left behind.
  Expected<uint64_t> evict_to(uint64_t max_bytes) const;

  std::vector<CacheEntryInfo> list() const;
  Expected<DiskStats> stats() const;
  /// Removes every entry and temporary file; returns how many entries.
  Expected<uint64_t> clear() const;

 private:
  DiskStore(std::filesystem::path directory, uint64_t max_bytes)
      : directory_(std::move(directory)), max_bytes_(max_bytes) {}
  std::filesystem::path directory_;
  uint64_t max_bytes_;
};

const char* to_string(DiskStore::LoadStatus status);

}  // namespace tilefuse::runtime
