// Hazard tracking of the sm_90 async proxy in the block's shared memory, at
// 16-byte chunk granularity: TMA copies (writes), wgmma operand reads, and
// generic-proxy writes (st.shared) that must be followed by
// fence.proxy.async before the async proxy touches the same bytes.
//
// A chunk written by TMA is visible to a thread once that thread observed
// (mbarrier try_wait) the completion of the barrier phase the copy's bytes
// were counted in. Rules (each violation is reported, not just computed):
//  - wgmma may read a chunk only if no TMA copy to it is in flight, it was
//    written (by TMA, or by a fenced generic write), and every thread of the
//    warpgroup observed the phase its TMA bytes completed;
//  - TMA may write a chunk only if no wgmma still reads it (issued and not yet
//    retired by wgmma.wait_group) and no other copy to it is in flight;
//  - the async proxy (TMA write, wgmma read) may touch a chunk a generic-proxy
//    write changed only after the writer's fence.proxy.async.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emu {

class AsyncProxy {
 public:
  void reset(std::size_t bytes);
  bool active() const { return !chunks_.empty(); }

  /// Each returns "" or a description of the hazard.
  std::string on_tma_issued(unsigned offset);
  void on_tma_landed(unsigned offset, unsigned barrier, unsigned long long phase);
  /// `observed(barrier)`: the fewest phases of `barrier` any thread of the
  /// reading warpgroup has seen complete.
  std::string on_wgmma_read(unsigned offset, const std::function<unsigned long long(unsigned)>& observed);
  void on_wgmma_retired(unsigned offset);
  std::string on_generic_write(unsigned offset, int thread);
  void on_fence_proxy_async(int thread);

 private:
  struct Chunk {
    int tma_in_flight = 0;
    int wgmma_readers = 0;
    bool tma_written = false;
    unsigned barrier = 0;              // of the last TMA write
    unsigned long long phase = 0;      // barrier phase its bytes completed in
    int generic_writer = -1;           // thread of an unfenced st.shared
    bool generic_fenced = false;
  };
  std::vector<Chunk> chunks_;
};

}  // namespace emu
