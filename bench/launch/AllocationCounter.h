// Counts heap allocations made by the calling thread while counting is on:
// bench/launch replaces malloc/calloc/realloc/aligned_alloc/posix_memalign and
// every operator new in its binary (AllocationCounter.cpp), so allocations of
// tilefuse, the C++ runtime and the (fake) driver library are all seen.
#pragma once

#include <cstdint>

namespace tilefuse::bench {

/// Allocations counted on this thread so far.
std::uint64_t allocations_on_this_thread();
/// Turns counting on or off for this thread.
void count_allocations(bool on);

/// Counts the allocations this thread makes during its lifetime.
class AllocationScope {
 public:
  AllocationScope() : start_(allocations_on_this_thread()) { count_allocations(true); }
  ~AllocationScope() { count_allocations(false); }
  std::uint64_t count() const { return allocations_on_this_thread() - start_; }

 private:
  std::uint64_t start_;
};

}  // namespace tilefuse::bench
