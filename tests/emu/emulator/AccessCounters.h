// Performance counters of the emulated kernel (issue 14, item 5): per
// warp-level memory request, shared-memory wavefronts (bank-conflict passes)
// and global-memory 32-byte sectors, summed per instruction and call site.
//
// The model, as NVIDIA documents it for sm_70 and newer:
//  - shared memory has 32 banks of 4 bytes; successive 4-byte words go to
//    successive banks (CUDA C++ Programming Guide, "Shared Memory" of compute
//    capability 5.x and later). Lanes that access the same word do not
//    conflict (a read is broadcast, a write is done by one of them);
//  - one request returns (or accepts) at most 128 bytes per cycle, so a warp's
//    64-bit accesses are processed in two half-warp phases and its 128-bit
//    accesses in four quarter-warp phases; ldmatrix reads each 8x8 matrix's 8
//    rows of 16 bytes (the addresses of lanes 8j..8j+7) as one phase;
//  - a phase takes as many wavefronts (passes) as the most distinct words any
//    one bank holds among its lanes' accesses; the ideal is one per phase with
//    an active lane, and bank conflicts = wavefronts − ideal (as Nsight
//    Compute reports l1tex__data_bank_conflicts_pipe_lsu_mem_shared);
//  - a global request touches the distinct 32-byte-aligned sectors its active
//    lanes' bytes fall in (Nsight Compute's sectors per request); efficiency =
//    distinct bytes used / (sectors × 32).
// Sources: forums.developer.nvidia.com/t/unexpected-shared-memory-bank-conflict/77228
// (128 bytes per cycle: 4 passes for a 128-bit load),
// …/t/wahts-the-difference-between-wavefronts-and-sectors-req/165293 (requests,
// wavefronts, sectors), …/t/understanding-l1-tex-cache-sectors-req/312884.
// Not modelled: the sm_70-sm_75 pairing rule that lets a 128-bit load of
// pairwise-equal addresses finish in 2 passes, caches and timing.
//
// Hooking an instruction: a warp-collective one computes its cost from all
// its addresses and adds it (ldmatrix: Instructions.cpp, count_ldmatrix; a
// wgmma operand read or a TMA box would do the same through
// BlockRunner::current().counters(): shared_request_cost over the 16-byte
// rows of each 8x8 core matrix, global_request_cost over the box's rows); a
// per-thread one calls BlockRunner::count_thread_access, and the lanes are
// grouped into requests by WarpRequestGrouper below.
#pragma once

#include <cstdint>
#include <map>
#include <source_location>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace emu {

/// One lane's (or one row's) contiguous access: `bytes` at `address`.
/// Shared memory: byte offset in the block's shared memory; global: a host
/// address of the emulated device memory.
struct ByteRange {
  std::uint64_t address = 0;
  unsigned bytes = 0;
};

/// The cost of one shared-memory request.
struct SharedRequestCost {
  int wavefronts = 0;
  int ideal_wavefronts = 0;  ///< one per phase with an access
  int conflicts() const { return wavefronts - ideal_wavefronts; }
};

/// The cost of one global-memory request.
struct GlobalRequestCost {
  int sectors = 0;            ///< distinct 32-byte sectors touched
  std::uint64_t bytes = 0;    ///< distinct bytes accessed
};

constexpr int kBanks = 32;
constexpr int kBankBytes = 4;
constexpr int kSectorBytes = 32;

/// Wavefronts of one phase: the largest number of distinct 4-byte words that
/// one bank holds among the accesses (0 when there are none).
int phase_wavefronts(std::span<const ByteRange> phase);

/// A warp's request whose lanes each access `lanes[l]` (bytes = 0: lane
/// inactive), processed `lanes_per_phase` consecutive lanes at a time (32 for
/// 32-bit accesses, 16 for 64-bit, 8 for 128-bit and ldmatrix).
SharedRequestCost shared_request_cost(std::span<const ByteRange> lanes, int lanes_per_phase);

/// The lanes' width in bytes → lanes per phase (4 → 32, 8 → 16, 16 → 8).
int lanes_per_phase_for_width(unsigned bytes_per_lane);

/// Sectors and distinct bytes of one global request (bytes = 0: no access).
GlobalRequestCost global_request_cost(std::span<const ByteRange> lanes);

/// Totals of one instruction at one call site.
struct AccessTotals {
  std::uint64_t requests = 0;
  std::uint64_t partial_requests = 0;  ///< requests with fewer lanes than the full warp
  // shared memory
  std::uint64_t wavefronts = 0, ideal_wavefronts = 0;
  std::uint64_t max_request_wavefronts = 0;
  // global memory
  std::uint64_t sectors = 0, bytes = 0;

  std::uint64_t conflicts() const { return wavefronts - ideal_wavefronts; }
  /// bytes / (sectors × 32); 1 when no sector was touched.
  double sector_efficiency() const;
};

enum class MemorySpace { Shared, Global };

/// Counters of one or more launches, per (instruction, call site). The
/// instruction names the access ("ldmatrix.x4.trans", "st.global.b64"), the
/// site where the kernel issues it ("gemm_sm80.cuh:245").
class AccessCounters {
 public:
  void add_shared(const std::string& instruction, const std::string& site, const SharedRequestCost& cost,
                  bool partial);
  void add_global(const std::string& instruction, const std::string& site, const GlobalRequestCost& cost,
                  bool partial);

  struct Key {
    MemorySpace space;
    std::string instruction, site;
    auto operator<=>(const Key&) const = default;
  };
  const std::map<Key, AccessTotals>& totals() const { return totals_; }
  /// The sum over the call sites of one instruction (zeros if none).
  AccessTotals instruction_totals(MemorySpace space, const std::string& instruction) const;
  /// [{"instruction", "site", "space", "requests", ...}, ...], sorted.
  nlohmann::json to_json() const;

 private:
  std::map<Key, AccessTotals> totals_;
};

/// Groups the per-thread accesses of the emulated threads (st.shared,
/// ld.shared, cp.async, st.global) into warp-level requests.
///
/// Under the emulator the lanes of a warp run one after another between
/// warp-synchronizing points (__syncthreads, __syncwarp, ldmatrix, mma), so
/// the 32 addresses of one warp instruction arrive at different times. A
/// lane's accesses are keyed by (warp, the number of synchronizing points the
/// lane has passed, call site, how often the lane has executed that site since
/// that point): the k-th execution of a site by each lane of a warp is one
/// warp-level request. This is exact when the lanes execute the same sequence
/// of calls at a site between two synchronizing points (uniform control flow),
/// and still exact when some lanes stop early (a lane past the M or N tail
/// skips its remaining epilogue iterations: the request has fewer lanes and
/// counts as partial). Lanes that skip calls in the middle of such a sequence
/// would be grouped with the wrong instruction instance; the tilefuse kernels
/// do not do that for warp tiles of 16, 32, 64 or 128 columns (a lane's
/// epilogue column does not change between iterations), and the tests that
/// check targets use full tiles, where every request must have 32 lanes.
class WarpRequestGrouper {
 public:
  void reset(int threads);
  /// Thread `thread` passed a synchronizing point.
  void on_sync(int thread);
  /// Thread `thread` issued `instruction` (a string literal) at `site`,
  /// accessing `range` in `space`.
  void record(int thread, MemorySpace space, const char* instruction, const std::source_location& site,
              ByteRange range);
  /// Adds every request collected since reset() to `counters` and forgets them.
  void flush(AccessCounters& counters);

 private:
  /// A call site of the kernel (file names are static strings of the one
  /// translation unit that holds the kernel).
  struct Site {
    const char* file;
    unsigned line, column;
    auto operator<=>(const Site&) const = default;
  };
  struct LaneState {
    long epoch = 0;
    std::map<std::pair<Site, MemorySpace>, long> executions;  // since the last synchronizing point
  };
  struct RequestKey {
    int warp;
    long epoch;
    Site site;
    MemorySpace space;
    long occurrence;
    auto operator<=>(const RequestKey&) const = default;
  };
  struct Request {
    const char* instruction = "";
    ByteRange lanes[32] = {};  // bytes = 0: the lane did not take part
    int lanes_seen = 0;
  };
  std::vector<LaneState> lanes_;
  std::map<RequestKey, Request> requests_;
};

/// "gemm_sm80.cuh:245": the file's base name and the line.
std::string site_label(const char* file, unsigned line);

}  // namespace emu
