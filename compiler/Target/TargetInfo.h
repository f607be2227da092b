// Target description: everything that differs between GPU architectures lives
// behind this interface (modelled on Triton's TargetInfoBase), so no pass or
// emitter compares SM numbers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/Types.h"

namespace tilefuse::compiler {

/// The GEMM mainloop driver a target's kernels are built on; it decides the
/// template (runtime/ops/KernelSource.cpp), the meaning of a tile's warp
/// shape, and the resource rules (TilePruning.h).
enum class Mainloop {
  /// templates/tilefuse/gemm_sm80.cuh: cp.async ring, ldmatrix + mma.sync;
  /// warp_m x warp_n is one warp's tile, warps() warps per block.
  MmaSyncMultistage,
  /// templates/tilefuse/gemm_sm90.cuh: TMA ring on mbarriers, wgmma, one
  /// producer + two consumer warpgroups, persistent; warp_m x warp_n is one
  /// consumer WARPGROUP's tile, block_m = warp_m (ping-pong) or 2 x warp_m
  /// (cooperative), warp_n = block_n, block_k = 64.
  WgmmaWarpSpecialized,
};

class TargetInfo {
 public:
  virtual ~TargetInfo() = default;

  virtual Arch arch() const = 0;
  /// NVRTC `--gpu-architecture` value, e.g. "sm_80", "sm_90", "sm_90a".
  virtual std::string_view nvrtc_arch() const = 0;
  /// The mainloop driver this target's GEMM kernels use.
  virtual Mainloop mainloop() const = 0;
  /// Shared memory one block may use (opt-in maximum), bytes.
  virtual int max_shared_memory_per_block() const = 0;
  /// Shared memory of one multiprocessor, bytes (what resident blocks share;
  /// the hardware also reserves 1 KiB per block, see blocks_per_sm).
  virtual int shared_memory_per_sm() const = 0;
  /// Threads one multiprocessor holds at most.
  virtual int max_threads_per_sm() const = 0;
  /// Registers per thread the mainloop may use before spilling is likely.
  virtual int max_registers_per_thread() const = 0;
  /// Accumulator elements per thread that sit next to each other in a row of
  /// the output (the epilogue is vectorized to this width).
  virtual int accumulator_vector_width() const = 0;
  /// Tile configurations worth considering (the autotuner's space).
  virtual std::vector<TileConfig> tile_space() const = 0;
  /// Zero-GPU-time choice from the problem shape (M, N, K; 0 = unknown).
  virtual TileConfig default_tile(long long m, long long n, long long k) const = 0;
};

/// The target for `arch`; never null.
std::unique_ptr<TargetInfo> make_target(Arch arch);

}  // namespace tilefuse::compiler
