// The mbarrier objects of one emulated block (PTX ISA, "Parallel
// Synchronization and Communication Instructions: mbarrier"): each has an
// expected arrival count (set by init), a pending arrival count, a tx-count
// and a current phase. A phase completes when the pending arrival count AND
// the tx-count are both zero; the barrier then moves to the next phase with
// the pending count reloaded and tx-count 0.
//
//   arrive            pending -= 1
//   expect-tx(b)      tx += b
//   arrive.expect_tx  expect-tx(b), then arrive
//   complete-tx(b)    tx -= b          (a TMA copy's bytes landing)
//   try_wait.parity p true once the phase of parity p completed, i.e. while
//                     the current phase's parity differs from p
//
// Barriers are keyed by their shared-memory offset; every operation reports
// misuse (uninitialised barrier, an arrival beyond the expected count, a
// tx-count outside the ISA's range) through the returned string.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace emu {

struct MbarrierState {
  bool fenced = false;          ///< fence.mbarrier_init ran after init (async proxy may use it)
  unsigned expected = 0;        ///< arrivals per phase
  unsigned pending = 0;         ///< arrivals the current phase still needs
  long long tx = 0;             ///< bytes expected minus bytes completed in the current phase
  unsigned long long phase = 0; ///< phases completed so far (current phase's parity: phase & 1)
};

class Mbarriers {
 public:
  /// tx-count range of the ISA: [-(2^20 - 1), 2^20 - 1].
  static constexpr long long kMaxTx = (1 << 20) - 1;

  void clear() { barriers_.clear(); }

  /// Each returns "" or what is wrong. `completed` is set when the operation
  /// completed the current phase.
  std::string init(unsigned offset, unsigned count);
  void fence_init();
  std::string arrive(unsigned offset, bool& completed);
  std::string expect_tx(unsigned offset, unsigned bytes);
  std::string complete_tx(unsigned offset, unsigned bytes, bool& completed, bool from_async_proxy);
  /// try_wait.parity: whether the phase of parity `parity` has completed.
  bool phase_done(unsigned offset, unsigned parity) const;

  const MbarrierState* find(unsigned offset) const;
  /// "phase 3 (parity 1), 1 of 2 arrivals pending, tx-count 8192"
  std::string describe(unsigned offset) const;
  /// Barriers left with bytes expected but never delivered (or delivered but
  /// never expected) when the block ends: "" when every tx-count balanced.
  std::string unbalanced_at_exit(const std::function<std::string(unsigned)>& name) const;

 private:
  std::string complete_if_done(MbarrierState& b, bool& completed);
  std::map<unsigned, MbarrierState> barriers_;
};

}  // namespace emu
