// See TuningDbFile.h.
#include "runtime/tune/TuningDbFile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tilefuse::tune {
namespace {

namespace fs = std::filesystem;

Error io_error(const fs::path& path, const std::string& what, int err) {
  return make_error(ErrorCode::IoError,
                    fmt::format("tuning database: cannot {} {}: {}", what, path.string(),
                                std::strerror(err)));
}

/// Holds an exclusive flock on <path>.lock for its lifetime.
class FileLock {
 public:
  static Expected<FileLock> acquire(const fs::path& path) {
    const fs::path lock_path = path.string() + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return io_error(lock_path, "open the lock file", errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return io_error(lock_path, "lock", err);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Expected<nlohmann::json> read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path, "read", errno);
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("tuning database {} is not valid JSON; remove it (re-tune) or "
                                  "restore it from an export",
                                  path.string()));
  return json;
}

/// Writes `text` to a temporary file next to `path`, fsyncs, renames over `path`.
Expected<void> write_atomically(const fs::path& path, const std::string& text) {
  static std::atomic<unsigned> counter{0};
  const fs::path temp =
      fmt::format("{}.tmp.{}.{}", path.string(), ::getpid(), counter.fetch_add(1));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(temp, "create", errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return io_error(temp, "write", err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return io_error(temp, "flush", err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return io_error(path, "replace", err);
  }
  return {};
}

}  // namespace

Expected<TuningDb> read_tuning_db_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error(ErrorCode::IoError,
                      fmt::format("tuning database {} does not exist (write one with tilefuse tune "
                                  "--export FILE on the GPU it is for)",
                                  path.string()));
  auto json = read_json(path);
  if (!json) return json.take_error();
  return TuningDb::from_json(*json, path.string());
}

Expected<TuningDb> read_tuning_db(const fs::path& path, const DeviceIdentity& device) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return TuningDb(device);
  auto db = read_tuning_db_file(path);
  if (!db) return db.take_error();
  if (!(db->device() == device))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("tuning database {} belongs to device {}, not {}; it was "
                                  "renamed or copied by hand: use tilefuse tune --import",
                                  path.string(), device_key(db->device()), device_key(device)));
  return db;
}

Expected<TuningDb> update_tuning_db(const fs::path& path, const DeviceIdentity& device,
                                    std::span<const TuningRecord> records, std::size_t* changed) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return io_error(path.parent_path(), "create the directory", ec.value());
  auto lock = FileLock::acquire(path);
  if (!lock) return lock.take_error();
  auto db = read_tuning_db(path, device);  // what other writers left, read under the lock
  if (!db) return db.take_error();
  std::size_t merged = 0;
  for (const TuningRecord& r : records) merged += db->merge(r) ? 1 : 0;
  if (changed) *changed = merged;
  auto written = write_atomically(path, db->to_json().dump(1) + "\n");
  if (!written) return written.take_error();
  return db;
}

Expected<void> export_tuning_db(const fs::path& db_path, const DeviceIdentity& device,
                                const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(db_path, ec))
    return make_error(ErrorCode::IoError,
                      fmt::format("nothing to export: no tuning database for {} at {} (run "
                                  "tilefuse tune on this GPU first)",
                                  device_key(device), db_path.string()));
  auto db = read_tuning_db(db_path, device);
  if (!db) return db.take_error();
  return write_atomically(out, db->to_json().dump(1) + "\n");
}

Expected<ImportSummary> import_tuning_db(const fs::path& cache_dir, const fs::path& in) {
  auto incoming = read_tuning_db_file(in);
  if (!incoming) return incoming.take_error();
  ImportSummary summary;
  summary.device = incoming->device();
  summary.database = tuning_db_path(cache_dir, summary.device);
  summary.records = incoming->records().size();
  auto merged = update_tuning_db(summary.database, summary.device, incoming->records(),
                                 &summary.changed);
  if (!merged) return merged.take_error();
  return summary;
}

}  // namespace tilefuse::tune
