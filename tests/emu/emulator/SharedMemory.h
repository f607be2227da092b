// The dynamic shared memory of the emulated block and a hazard tracker for
// the accesses the emulator sees (cp.async landings and ldmatrix reads), at
// 16-byte chunk granularity.
//
// "epoch" counts the block-wide barriers passed so far. Rules:
//  - ldmatrix may read a chunk only after the cp.async that wrote it was
//    completed (cp.async.wait_group of the issuing thread) AND a barrier was
//    passed since: otherwise other threads' copies may not be visible;
//  - a cp.async may target a chunk only if no other warp read it with
//    ldmatrix since the last barrier (write-after-read), and no earlier copy
//    to it is still in flight;
//  - ldmatrix of a chunk nothing wrote reads garbage.
// The raw-pointer accesses of the epilogue are not tracked; the buffer is
// poisoned (NaN) at block start and its guard band checked at block end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace emu {

class SharedMemory {
 public:
  /// `base` holds `capacity` bytes; the launch uses the first `bytes`.
  void reset(std::uint8_t* base, std::size_t bytes, std::size_t capacity);

  std::uint8_t* base() const { return base_; }
  std::size_t bytes() const { return bytes_; }
  void advance_epoch() { ++epoch_; }

  /// Checks an access of `length` bytes at `offset` with `alignment`; empty if fine.
  std::string check_range(unsigned offset, std::size_t length, std::size_t alignment) const;

  /// Hazard checks; each returns a description of the violation or "".
  std::string on_copy_issued(unsigned offset, int thread, int warp);
  void on_copy_landed(unsigned offset, const std::uint8_t (&data)[16]);
  void on_copy_completed(unsigned offset, int thread);
  std::string on_ldmatrix_row(unsigned offset, int warp);

  /// Empty when nothing past `bytes` (up to the capacity) was written.
  std::string check_guard() const;

 private:
  struct Chunk {
    bool written = false;
    bool in_flight = false;
    int issuer = -1;          // thread of the last cp.async
    long completed_epoch = -1;
    long read_epoch = -1;
    std::uint32_t reader_warps = 0;  // warps that read it in read_epoch
  };
  std::uint8_t* base_ = nullptr;
  std::size_t bytes_ = 0, capacity_ = 0;
  long epoch_ = 0;
  std::vector<Chunk> chunks_;
};

}  // namespace emu
