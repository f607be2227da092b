// Host buffers that stand in for device allocations in the emulated launch.
//
// Each payload is 256-byte aligned (as cudaMalloc's) and surrounded by guard
// bands filled with a 16-bit NaN pattern, so that a kernel reading past a
// buffer computes NaN and one writing past it is caught by check_guards().
// Live payloads are registered: cp.async checks that every byte it reads
// belongs to one (a read in a guard band or elsewhere is an out-of-bounds
// global load on the GPU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace emu {

/// 0x7fbf is a NaN as bf16 and as f16, and 0x7fbf7fbf is a NaN as fp32.
constexpr std::uint16_t kPoison16 = 0x7fbf;

class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t payload_bytes);
  ~GuardedBuffer();
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  void* data() { return payload_; }
  const void* data() const { return payload_; }
  std::size_t bytes() const { return bytes_; }
  /// Fills the payload with the poison pattern (guards always hold it).
  void poison();
  /// Empty when both guard bands are intact; else which bytes changed.
  std::string check_guards(const std::string& name) const;

 private:
  static constexpr std::size_t kGuardBytes = 256;
  std::uint8_t* storage_ = nullptr;
  std::uint8_t* payload_ = nullptr;
  std::size_t bytes_ = 0;
};

/// True when [address, address + bytes) lies inside one live GuardedBuffer.
bool is_device_readable(const void* address, std::size_t bytes);

/// Fills `bytes` (even) at `destination` with kPoison16.
void fill_poison(void* destination, std::size_t bytes);

}  // namespace emu
