// See DeviceMemory.h.
#include "emulator/DeviceMemory.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <new>

namespace emu {
namespace {

constexpr std::size_t kAlignment = 256;

struct Registry {
  std::mutex mutex;
  std::map<std::uintptr_t, std::size_t> payloads;  // start → bytes
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

void fill_poison(void* destination, std::size_t bytes) {
  auto* out = static_cast<std::uint8_t*>(destination);
  std::uint8_t pattern[256];
  for (std::size_t i = 0; i < sizeof pattern; i += 2) std::memcpy(pattern + i, &kPoison16, 2);
  for (std::size_t i = 0; i < bytes; i += sizeof pattern) std::memcpy(out + i, pattern, std::min(sizeof pattern, bytes - i));
}

GuardedBuffer::GuardedBuffer(std::size_t payload_bytes) : bytes_(payload_bytes) {
  const std::size_t total = kGuardBytes + round_up(std::max<std::size_t>(payload_bytes, 1), kAlignment) + kGuardBytes;
  storage_ = static_cast<std::uint8_t*>(::operator new(total, std::align_val_t{kAlignment}));
  payload_ = storage_ + kGuardBytes;
  fill_poison(storage_, total);
  std::lock_guard lock(registry().mutex);
  registry().payloads[reinterpret_cast<std::uintptr_t>(payload_)] = bytes_;
}

GuardedBuffer::~GuardedBuffer() {
  {
    std::lock_guard lock(registry().mutex);
    registry().payloads.erase(reinterpret_cast<std::uintptr_t>(payload_));
  }
  ::operator delete(storage_, std::align_val_t{kAlignment});
}

void GuardedBuffer::poison() { fill_poison(payload_, bytes_); }

std::string GuardedBuffer::check_guards(const std::string& name) const {
  const std::size_t after_start = bytes_;
  const std::size_t after_end = round_up(std::max<std::size_t>(bytes_, 1), kAlignment) + kGuardBytes;
  auto scan = [&](std::ptrdiff_t from, std::ptrdiff_t to) -> std::string {
    for (std::ptrdiff_t i = from; i < to; ++i) {
      const std::uint8_t expected = reinterpret_cast<const std::uint8_t*>(&kPoison16)[(i + 65536) % 2];
      if (payload_[i] != expected)
        return fmt::format("{}: byte {} relative to the start of the buffer (payload {} bytes) was written", name, i,
                           bytes_);
    }
    return {};
  };
  std::string before = scan(-static_cast<std::ptrdiff_t>(kGuardBytes), 0);
  if (!before.empty()) return before;
  // A payload of odd size leaves one pad byte whose poison half is still there.
  return scan(static_cast<std::ptrdiff_t>(after_start), static_cast<std::ptrdiff_t>(after_end));
}

bool is_device_readable(const void* address, std::size_t bytes) {
  const auto start = reinterpret_cast<std::uintptr_t>(address);
  std::lock_guard lock(registry().mutex);
  auto it = registry().payloads.upper_bound(start);
  if (it == registry().payloads.begin()) return false;
  --it;
  return start >= it->first && start + bytes <= it->first + it->second;
}

}  // namespace emu
