// The tuning database on disk: <cache dir>/tuning/<device key>.json.
//
// Readers take no lock: writers replace the file by rename, so a reader sees
// a whole database or none. Writers serialize on <file>.lock (flock), re-read
// the file under the lock, merge their records into what other processes
// wrote meanwhile, write a temporary file in the same directory, fsync it and
// rename it into place. Concurrent tuners therefore never lose each other's
// records, and a crash leaves the previous file intact.
#pragma once

#include <filesystem>
#include <span>

#include "runtime/tune/TuningDb.h"

namespace tilefuse::tune {

/// The database in `path`; an empty one for `device` when the file does not
/// exist. InvalidInput when the file is malformed or belongs to another device.
Expected<TuningDb> read_tuning_db(const std::filesystem::path& path, const DeviceIdentity& device);

/// The database in `path` whatever device it belongs to (an exported file);
/// IoError when it does not exist, InvalidInput when it is malformed.
Expected<TuningDb> read_tuning_db_file(const std::filesystem::path& path);

/// Merges `records` into the file under its lock (creating directory and file
/// as needed) and returns the merged database; `changed` (optional) receives
/// how many records were added or replaced.
Expected<TuningDb> update_tuning_db(const std::filesystem::path& path,
                                    const DeviceIdentity& device,
                                    std::span<const TuningRecord> records,
                                    std::size_t* changed = nullptr);

/// Writes the database in `db_path` to `out` (atomically); IoError if it does
/// not exist yet (nothing was tuned on this device).
Expected<void> export_tuning_db(const std::filesystem::path& db_path,
                                const DeviceIdentity& device, const std::filesystem::path& out);

struct ImportSummary {
  std::filesystem::path database;  ///< the file the records were merged into
  DeviceIdentity device;           ///< from the imported file
  std::size_t records = 0;         ///< in the imported file
  std::size_t changed = 0;         ///< added or replaced by newer ones
};

/// Merges an exported file into <cache_dir>/tuning/<its device key>.json:
/// the records stay with the GPU they were measured on. Needs no GPU.
Expected<ImportSummary> import_tuning_db(const std::filesystem::path& cache_dir,
                                         const std::filesystem::path& in);

}  // namespace tilefuse::tune
