// See SharedMemory.h.
#include "emulator/SharedMemory.h"

#include <cstring>
#include <fmt/format.h>

#include "emulator/DeviceMemory.h"

namespace emu {

void SharedMemory::reset(std::uint8_t* base, std::size_t bytes, std::size_t capacity) {
  base_ = base;
  bytes_ = bytes;
  capacity_ = capacity;
  epoch_ = 0;
  chunks_.assign((bytes + 15) / 16, Chunk{});
  fill_poison(base, capacity);  // real shared memory starts with garbage
}

std::string SharedMemory::check_range(unsigned offset, std::size_t length, std::size_t alignment) const {
  if (offset % alignment != 0)
    return fmt::format("shared address {} is not {}-byte aligned", offset, alignment);
  if (offset + length > bytes_)
    return fmt::format("shared access [{}, {}) is outside the {} bytes of dynamic shared memory", offset,
                       offset + length, bytes_);
  return {};
}

std::string SharedMemory::on_copy_issued(unsigned offset, int thread, int warp) {
  Chunk& c = chunks_[offset / 16];
  std::string problem;
  if (c.in_flight)
    problem = fmt::format("cp.async to shared offset {} while thread {}'s earlier cp.async to it is still in flight",
                          offset, c.issuer);
  else if (c.read_epoch == epoch_ && (c.reader_warps & ~(1u << warp)) != 0)
    problem = fmt::format("cp.async overwrites shared offset {} that another warp (mask {:#x}) read with ldmatrix "
                          "since the last __syncthreads (write-after-read race)",
                          offset, c.reader_warps);
  c.in_flight = true;
  c.issuer = thread;
  return problem;
}

void SharedMemory::on_copy_landed(unsigned offset, const std::uint8_t (&data)[16]) {
  std::memcpy(base_ + offset, data, 16);
}

void SharedMemory::on_copy_completed(unsigned offset, int thread) {
  Chunk& c = chunks_[offset / 16];
  if (c.issuer != thread) return;  // a later copy by another thread owns the chunk (reported at issue)
  c.in_flight = false;
  c.written = true;
  c.completed_epoch = epoch_;
}

std::string SharedMemory::on_ldmatrix_row(unsigned offset, int warp) {
  Chunk& c = chunks_[offset / 16];
  std::string problem;
  if (c.in_flight)
    problem = fmt::format("ldmatrix reads shared offset {} while thread {}'s cp.async to it is in flight (missing "
                          "cp.async.wait_group)",
                          offset, c.issuer);
  else if (!c.written)
    problem = fmt::format("ldmatrix reads shared offset {} that no cp.async wrote", offset);
  else if (c.completed_epoch >= epoch_)
    problem = fmt::format("ldmatrix reads shared offset {} that thread {}'s cp.async completed with no "
                          "__syncthreads since (read-after-write race)",
                          offset, c.issuer);
  if (c.read_epoch != epoch_) {
    c.read_epoch = epoch_;
    c.reader_warps = 0;
  }
  c.reader_warps |= 1u << warp;
  return problem;
}

std::string SharedMemory::check_guard() const {
  for (std::size_t i = bytes_; i < capacity_; ++i) {
    const std::uint8_t expected = reinterpret_cast<const std::uint8_t*>(&kPoison16)[i % 2];
    if (base_[i] != expected)
      return fmt::format("shared memory byte {} was written, past the {} bytes the launch provides", i, bytes_);
  }
  return {};
}

}  // namespace emu
