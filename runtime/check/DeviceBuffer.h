// Device memory for the GPU harness and benchmarks, through tilefuse's
// dlopen'ed driver table (no CUDA runtime): allocate, copy, fill bytes.
#pragma once

#include <cuda.h>

#include <cstddef>

#include "runtime/Driver.h"
#include "tilefuse/error.hpp"

namespace tilefuse::gpu {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Expected<DeviceBuffer> allocate(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return reinterpret_cast<void*>(address_); }
  std::size_t bytes() const { return bytes_; }

  Expected<void> upload(const void* host, std::size_t bytes);
  /// `bytes` from byte `offset` of the buffer.
  Expected<void> download(void* host, std::size_t bytes, std::size_t offset = 0) const;
  /// Every byte = `value` (0xFF: a NaN pattern in bf16, f16 and f32).
  Expected<void> fill(unsigned char value);

 private:
  const runtime::DriverApi* api_ = nullptr;
  CUdeviceptr address_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace tilefuse::gpu
