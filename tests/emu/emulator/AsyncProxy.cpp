// See AsyncProxy.h.
#include "emulator/AsyncProxy.h"

#include <fmt/format.h>

namespace emu {

void AsyncProxy::reset(std::size_t bytes) { chunks_.assign((bytes + 15) / 16, Chunk{}); }

std::string AsyncProxy::on_tma_issued(unsigned offset) {
  Chunk& c = chunks_[offset / 16];
  std::string problem;
  if (c.wgmma_readers > 0)
    problem = fmt::format("TMA writes shared offset {} that a wgmma in flight still reads (the stage was released "
                          "before wgmma.wait_group retired the wgmma reading it)",
                          offset);
  else if (c.tma_in_flight > 0)
    problem = fmt::format("TMA writes shared offset {} while an earlier TMA copy to it is still in flight", offset);
  else if (c.generic_writer >= 0)
    problem = fmt::format("TMA (async proxy) writes shared offset {} that thread {} wrote with st.shared (generic "
                          "proxy) without fence.proxy.async since",
                          offset, c.generic_writer);
  ++c.tma_in_flight;
  return problem;
}

void AsyncProxy::on_tma_landed(unsigned offset, unsigned barrier, unsigned long long phase) {
  Chunk& c = chunks_[offset / 16];
  --c.tma_in_flight;
  c.tma_written = true;
  c.generic_fenced = false;
  c.barrier = barrier;
  c.phase = phase;
}

std::string AsyncProxy::on_wgmma_read(unsigned offset, const std::function<unsigned long long(unsigned)>& observed) {
  Chunk& c = chunks_[offset / 16];
  ++c.wgmma_readers;
  if (c.tma_in_flight > 0)
    return fmt::format("wgmma reads shared offset {} while a TMA copy to it is in flight (its full barrier's phase "
                       "has not completed)",
                       offset);
  if (c.generic_writer >= 0)
    return fmt::format("wgmma (async proxy) reads shared offset {} that thread {} wrote with st.shared (generic "
                       "proxy) without fence.proxy.async since",
                       offset, c.generic_writer);
  if (c.generic_fenced) return {};
  if (!c.tma_written) return fmt::format("wgmma reads shared offset {} that no TMA copy wrote", offset);
  if (observed(c.barrier) <= c.phase)
    return fmt::format("wgmma reads shared offset {} whose TMA bytes completed phase {} of the mbarrier at {}, "
                       "which not every thread of the warpgroup observed (missing or wrong-parity mbarrier wait)",
                       offset, c.phase, c.barrier);
  return {};
}

void AsyncProxy::on_wgmma_retired(unsigned offset) { --chunks_[offset / 16].wgmma_readers; }

std::string AsyncProxy::on_generic_write(unsigned offset, int thread) {
  Chunk& c = chunks_[offset / 16];
  std::string problem;
  if (c.wgmma_readers > 0 || c.tma_in_flight > 0)
    problem = fmt::format("st.shared writes shared offset {} while the async proxy ({}) uses it", offset,
                          c.wgmma_readers > 0 ? "a wgmma in flight" : "a TMA copy in flight");
  c.generic_writer = thread;
  c.generic_fenced = false;
  return problem;
}

void AsyncProxy::on_fence_proxy_async(int thread) {
  for (Chunk& c : chunks_)
    if (c.generic_writer == thread) {
      c.generic_writer = -1;
      c.generic_fenced = true;
    }
}

}  // namespace emu
