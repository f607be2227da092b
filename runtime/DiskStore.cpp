#include "runtime/DiskStore.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "runtime/CacheEntry.h"

namespace tilefuse::runtime {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kEntrySuffix = ".tfk";
constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kLockName = ".lock";
// A temporary file this old belongs to a writer that died mid-write.
constexpr auto kStaleTempAge = std::chrono::minutes(10);

std::string errno_text() { return std::strerror(errno); }

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Expected<void> write_all(int fd, std::string_view bytes, const fs::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error(ErrorCode::IoError,
                        fmt::format("cannot write kernel cache file {}: {}", path.string(),
                                    n < 0 ? errno_text() : "no progress"));
    done += static_cast<size_t>(n);
  }
  return {};
}

Expected<std::string> read_all(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ErrorCode::IoError,
                      fmt::format("cannot stat {}: {}", path.string(), errno_text()));
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_error(ErrorCode::IoError,
                        fmt::format("cannot read {}: {}", path.string(), errno_text()));
    if (n == 0) break;  // shrank while we read: the size check will catch it
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

bool is_entry(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.size() == kCacheKeySize + kEntrySuffix.size() && name.ends_with(kEntrySuffix);
}
bool is_temp(const fs::path& p) { return p.filename().string().starts_with(kTempPrefix); }

struct FileOnDisk {
  fs::path path;
  uint64_t bytes = 0;
  fs::file_time_type mtime;
};

// Entries (and, if asked, temporary files) in `dir`; unreadable ones are
// skipped because another process may be removing them as we look.
std::vector<FileOnDisk> scan(const fs::path& dir, bool entries, bool temps) {
  std::vector<FileOnDisk> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (!((entries && is_entry(p)) || (temps && is_temp(p)))) continue;
    std::error_code size_ec, time_ec;
    const uint64_t size = fs::file_size(p, size_ec);
    const auto mtime = fs::last_write_time(p, time_ec);
    if (size_ec || time_ec) continue;
    out.push_back({p, size, mtime});
  }
  return out;
}

// Serializes eviction and clearing between processes (flock is released
// when the descriptor closes, also if the process dies).
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir)
      : fd_(::open((dir / kLockName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_.fd >= 0) {
      while (::flock(fd_.fd, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  bool held() const { return fd_.fd >= 0; }

 private:
  Fd fd_;
};

Expected<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  const size_t digits = i;
  uint64_t scale = 1;
  if (i < text.size()) {
    switch (text[i]) {
      case 'k': case 'K': scale = uint64_t{1} << 10; break;
      case 'm': case 'M': scale = uint64_t{1} << 20; break;
      case 'g': case 'G': scale = uint64_t{1} << 30; break;
      default: scale = 0; break;
    }
    ++i;
  }
  if (digits == 0 || i != text.size() || scale == 0)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("TILEFUSE_CACHE_MAX_BYTES='{}' is not a size: write a byte "
                                  "count, optionally with K, M or G (e.g. 512M)",
                                  text));
  return value * scale;
}

std::string unique_temp_name(const std::string& key) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{}-{}-{}-{:x}", kTempPrefix, key, ::getpid(), counter++, rng());
}

}  // namespace

const char* to_string(DiskStore::LoadStatus status) {
  switch (status) {
    case DiskStore::LoadStatus::Hit: return "hit";
    case DiskStore::LoadStatus::Absent: return "absent";
    case DiskStore::LoadStatus::Corrupt: return "corrupt";
  }
  return "unknown";
}

Expected<fs::path> default_cache_dir() {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (const char* dir = env("TILEFUSE_CACHE_DIR")) return fs::path(dir);
  if (const char* xdg = env("XDG_CACHE_HOME")) return fs::path(xdg) / "tilefuse";
  if (const char* home = env("HOME")) return fs::path(home) / ".cache" / "tilefuse";
  return make_error(ErrorCode::InvalidInput,
                    "no kernel cache directory: set TILEFUSE_CACHE_DIR (or XDG_CACHE_HOME or "
                    "HOME)");
}

Expected<uint64_t> default_cache_max_bytes() {
  const char* v = std::getenv("TILEFUSE_CACHE_MAX_BYTES");
  if (!v || !*v) return kDefaultCacheMaxBytes;
  return parse_size(v);
}

Expected<DiskStore> DiskStore::open(fs::path directory, uint64_t max_bytes) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    if (directory.has_parent_path()) fs::create_directories(directory.parent_path(), ec);
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error(ErrorCode::IoError,
                        fmt::format("cannot create the kernel cache directory {}: {}; set "
                                    "TILEFUSE_CACHE_DIR to a writable directory",
                                    directory.string(), errno_text()));
  }
  // Probe: being able to create a file is what matters, not the mode bits
  // (root ignores them, ACLs and read-only mounts override them).
  const fs::path probe = directory / unique_temp_name("probe");
  Fd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.fd < 0)
    return make_error(ErrorCode::IoError,
                      fmt::format("the kernel cache directory {} is not writable: {}; set "
                                  "TILEFUSE_CACHE_DIR to a writable directory",
                                  directory.string(), errno_text()));
  ::unlink(probe.c_str());
  return DiskStore(std::move(directory), max_bytes);
}

fs::path DiskStore::entry_path(const std::string& key) const {
  return directory_ / (key + std::string(kEntrySuffix));
}

DiskStore::LoadResult DiskStore::load(const std::string& key) const {
  const fs::path path = entry_path(key);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    if (errno == ENOENT) return {LoadStatus::Absent, std::nullopt, {}};
    return {LoadStatus::Corrupt, std::nullopt,
            fmt::format("cannot open {}: {}", path.string(), errno_text())};
  }
  auto bytes = read_all(fd.fd, path);
  if (!bytes) return {LoadStatus::Corrupt, std::nullopt, bytes.error().message};
  auto compiled = decode_cache_entry(*bytes, key);
  if (!compiled)
    return {LoadStatus::Corrupt, std::nullopt,
            fmt::format("{}: {}", path.string(), compiled.error().message)};
  // Recency for LRU eviction. Failing to touch only makes the entry look
  // older than it is; the hit itself is good.
  ::futimens(fd.fd, nullptr);
  return {LoadStatus::Hit, std::move(*compiled), {}};
}

Expected<void> DiskStore::store(const std::string& key, const Compiled& compiled) const {
  const std::string bytes = encode_cache_entry(key, compiled);
  const fs::path temp = directory_ / unique_temp_name(key);
  {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.fd < 0)
      return make_error(ErrorCode::IoError,
                        fmt::format("cannot create {} in the kernel cache: {}", temp.string(),
                                    errno_text()));
    auto written = write_all(fd.fd, bytes, temp);
    if (written && ::fsync(fd.fd) != 0)
      written = make_error(ErrorCode::IoError,
                           fmt::format("fsync of {} failed: {}", temp.string(), errno_text()));
    if (!written) {
      ::unlink(temp.c_str());
      return written;
    }
  }
  if (::rename(temp.c_str(), entry_path(key).c_str()) != 0) {
    Error e = make_error(ErrorCode::IoError,
                         fmt::format("cannot rename {} to {}: {}", temp.string(),
                                     entry_path(key).string(), errno_text()));
    ::unlink(temp.c_str());
    return e;
  }
  // Make the rename itself durable.
  if (Fd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir.fd >= 0)
    ::fsync(dir.fd);
  auto evicted = evict_to(max_bytes_);
  if (!evicted) return evicted.take_error();
  return {};
}

Expected<uint64_t> DiskStore::evict_to(uint64_t max_bytes) const {
  DirectoryLock lock(directory_);
  if (!lock.held())
    return make_error(ErrorCode::IoError,
                      fmt::format("cannot lock {} for eviction: {}",
                                  (directory_ / kLockName).string(), errno_text()));
  const auto now = fs::file_time_type::clock::now();
  for (const auto& t : scan(directory_, false, true))
    if (now - t.mtime > kStaleTempAge) ::unlink(t.path.c_str());

  std::vector<FileOnDisk> entries = scan(directory_, true, false);
  uint64_t total = 0;
  for (const auto& e : entries) total += e.bytes;
  if (total <= max_bytes) return uint64_t{0};
  std::sort(entries.begin(), entries.end(),
            [](const FileOnDisk& a, const FileOnDisk& b) { return a.mtime < b.mtime; });
  uint64_t removed = 0;
  for (const auto& e : entries) {
    if (total <= max_bytes) break;
    if (::unlink(e.path.c_str()) == 0 || errno == ENOENT) {
      total -= e.bytes;
      ++removed;
    }
  }
  return removed;
}

std::vector<CacheEntryInfo> DiskStore::list() const {
  std::vector<CacheEntryInfo> out;
  for (const auto& f : scan(directory_, true, false)) {
    CacheEntryInfo info;
    info.path = f.path;
    info.bytes = f.bytes;
    info.last_used = f.mtime;
    const std::string name = f.path.filename().string();
    info.key = name.substr(0, name.size() - kEntrySuffix.size());
    Fd fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
    auto bytes = fd.fd >= 0 ? read_all(fd.fd, f.path)
                            : Expected<std::string>(make_error(
                                  ErrorCode::IoError, fmt::format("cannot open: {}", errno_text())));
    auto compiled = bytes ? decode_cache_entry(*bytes, info.key)
                          : Expected<Compiled>(bytes.error());
    if (compiled) {
      info.valid = true;
      info.arch = compiled->arch;
      for (const auto& k : compiled->kernels) info.kernels.push_back(k.name);
      info.registers = compiled->registers;
      info.spill_bytes = compiled->spill_bytes;
      info.shared_bytes = compiled->shared_bytes;
    } else {
      info.problem = compiled.error().message;
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const CacheEntryInfo& a, const CacheEntryInfo& b) {
    return a.last_used > b.last_used;  // most recently used first
  });
  return out;
}

Expected<DiskStats> DiskStore::stats() const {
  std::error_code ec;
  if (!fs::is_directory(directory_, ec))
    return make_error(ErrorCode::IoError,
                      fmt::format("the kernel cache directory {} no longer exists",
                                  directory_.string()));
  DiskStats s;
  s.directory = directory_;
  s.max_bytes = max_bytes_;
  for (const auto& e : scan(directory_, true, false)) {
    ++s.entries;
    s.bytes += e.bytes;
  }
  return s;
}

Expected<uint64_t> DiskStore::clear() const {
  DirectoryLock lock(directory_);
  if (!lock.held())
    return make_error(ErrorCode::IoError,
                      fmt::format("cannot lock {} to clear it: {}",
                                  (directory_ / kLockName).string(), errno_text()));
  uint64_t removed = 0;
  for (const auto& f : scan(directory_, true, true)) {
    if (::unlink(f.path.c_str()) != 0 && errno != ENOENT)
      return make_error(ErrorCode::IoError,
                        fmt::format("cannot remove {}: {} ({} entries removed so far)",
                                    f.path.string(), errno_text(), removed));
    if (is_entry(f.path)) ++removed;
  }
  return removed;
}

}  // namespace tilefuse::runtime
