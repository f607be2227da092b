// The cp.async state of one emulated thread: copies issued since the last
// commit (the open group) and committed groups still in flight. The bytes are
// read from global memory at issue time (the kernel's inputs do not change
// during a launch); when they land in shared memory is the launch's choice
// (CpAsyncLanding), but they count as complete only at the issuing thread's
// cp.async.wait_group.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace emu {

struct AsyncCopy {
  unsigned shared_offset = 0;
  std::uint8_t data[16] = {};  // valid bytes, then zeros
  bool landed = false;
};

class CpAsyncQueue {
 public:
  void clear();
  void issue(const AsyncCopy& copy) { open_.push_back(copy); }
  void commit();
  /// Removes and returns, oldest first, the groups beyond `pending` in flight.
  std::vector<AsyncCopy> complete_all_but(int pending);
  /// Copies not yet completed, committed or not.
  std::size_t outstanding() const;

 private:
  std::vector<AsyncCopy> open_;
  std::deque<std::vector<AsyncCopy>> committed_;
};

}  // namespace emu
