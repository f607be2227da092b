// See Mbarrier.h.
#include "emulator/Mbarrier.h"

#include <fmt/format.h>

namespace emu {

std::string Mbarriers::init(unsigned offset, unsigned count) {
  if (offset % 8 != 0) return fmt::format("mbarrier.init at shared offset {}: not 8-byte aligned", offset);
  if (count < 1 || count > kMaxTx)
    return fmt::format("mbarrier.init at shared offset {} with count {}: outside 1..2^20-1", offset, count);
  MbarrierState& b = barriers_[offset];
  b = MbarrierState{};
  b.expected = b.pending = count;
  return {};
}

void Mbarriers::fence_init() {
  for (auto& [offset, b] : barriers_) b.fenced = true;
}

std::string Mbarriers::complete_if_done(MbarrierState& b, bool& completed) {
  completed = false;
  if (b.tx < -kMaxTx || b.tx > kMaxTx)
    return fmt::format("tx-count {} is outside the ISA's range +-(2^20-1)", b.tx);
  if (b.pending == 0 && b.tx == 0) {
    ++b.phase;
    b.pending = b.expected;
    completed = true;
  }
  return {};
}

std::string Mbarriers::arrive(unsigned offset, bool& completed) {
  completed = false;
  auto it = barriers_.find(offset);
  if (it == barriers_.end()) return fmt::format("mbarrier.arrive on shared offset {}, which no mbarrier.init set up", offset);
  MbarrierState& b = it->second;
  if (b.pending == 0)
    return fmt::format("mbarrier.arrive on {}: all {} arrivals of the current phase already happened (the phase "
                       "waits for tx-count {} to reach 0); an extra arrival is undefined",
                       offset, b.expected, b.tx);
  --b.pending;
  return complete_if_done(b, completed);
}

std::string Mbarriers::expect_tx(unsigned offset, unsigned bytes) {
  auto it = barriers_.find(offset);
  if (it == barriers_.end()) return fmt::format("mbarrier expect-tx on shared offset {}, which no mbarrier.init set up", offset);
  it->second.tx += bytes;
  if (it->second.tx > kMaxTx)
    return fmt::format("expect-tx of {} bytes on {} takes the tx-count to {}, beyond 2^20-1", bytes, offset, it->second.tx);
  return {};
}

std::string Mbarriers::complete_tx(unsigned offset, unsigned bytes, bool& completed, bool from_async_proxy) {
  completed = false;
  auto it = barriers_.find(offset);
  if (it == barriers_.end())
    return fmt::format("complete-tx of {} bytes on shared offset {}, which no mbarrier.init set up", bytes, offset);
  MbarrierState& b = it->second;
  std::string problem;
  if (from_async_proxy && !b.fenced)
    problem = fmt::format("a TMA copy completes on mbarrier {} whose initialisation was not made visible to the "
                          "async proxy (fence.mbarrier_init missing)",
                          offset);
  b.tx -= bytes;
  std::string range = complete_if_done(b, completed);
  return problem.empty() ? range : problem;
}

bool Mbarriers::phase_done(unsigned offset, unsigned parity) const {
  auto it = barriers_.find(offset);
  return it != barriers_.end() && (it->second.phase & 1u) != (parity & 1u);
}

const MbarrierState* Mbarriers::find(unsigned offset) const {
  auto it = barriers_.find(offset);
  return it == barriers_.end() ? nullptr : &it->second;
}

std::string Mbarriers::describe(unsigned offset) const {
  const MbarrierState* b = find(offset);
  if (!b) return "never initialised";
  return fmt::format("in phase {} (parity {}), {} of {} arrivals pending, tx-count {}", b->phase, b->phase & 1,
                     b->pending, b->expected, b->tx);
}

std::string Mbarriers::unbalanced_at_exit(const std::function<std::string(unsigned)>& name) const {
  std::string text;
  for (const auto& [offset, b] : barriers_)
    if (b.tx != 0)
      text += fmt::format("{}mbarrier {} ends the block with tx-count {} ({}): the bytes announced by "
                          "arrive.expect_tx and the bytes its copies delivered never balanced",
                          text.empty() ? "" : "; ", name(offset), b.tx,
                          b.tx > 0 ? "more expected than delivered" : "more delivered than expected");
  return text;
}

}  // namespace emu
