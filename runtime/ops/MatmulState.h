// What a tilefuse::Runtime and each MatmulOp share behind the public header
// (include/tilefuse/tilefuse.hpp): the kernel cache, and per op its fixed
// options, parameter names and the kernels built so far.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "runtime/KernelCache.h"
#include "runtime/ops/GemmArguments.h"
#include "runtime/ops/GemmVariant.h"
#include "runtime/ops/TileAdvisor.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::detail {

struct RuntimeState {
  std::unique_ptr<runtime::KernelCache> owned;  ///< null: the process-wide cache
  runtime::KernelCache* cache = nullptr;
  RuntimeOptions options;
  /// Recorded tuning results; null: TuningMode::Heuristic.
  std::shared_ptr<ops::TileAdvisor> advisor;
};

struct MatmulState {
  std::shared_ptr<RuntimeState> runtime;  ///< keeps the cache alive
  MatmulOptions options;
  compiler::KernelSpec spec;              ///< everything but arch and tile
  std::vector<std::string> parameters;
  ops::GemmOperands operands;
  /// One target per compiler::Arch, made up front so that choosing a tile
  /// at launch allocates nothing.
  std::array<std::unique_ptr<compiler::TargetInfo>, compiler::kArchCount> targets;
  /// Per compiler::Arch, the tuning records of this op (null: heuristic only).
  std::array<std::unique_ptr<ops::OpTileAdvisor>, compiler::kArchCount> advisors;

  /// Runtime::matmul_backward: the backward GEMM (z read from aux).
  bool backward = false;

  std::mutex mutex;
  std::vector<std::unique_ptr<ops::GemmVariant>> variants;  ///< never shrinks

  /// The tile a launch of m x n x k on `arch` uses: forced (InvalidInput
  /// when the target's template cannot build it, compiler::tile_shape_rejection);
  /// else recorded by the tuner for this op and shape bucket; else the
  /// target's heuristic (with the warp tile halved for a gated op, see
  /// fit_tile_to_gated; on sm_90a the cooperative schedule when the launch
  /// has no more tiles than `sm_count` multiprocessors, 0 = unknown).
  /// A grouped op passes its `groups` (E) with m = the launch's rows (T, or
  /// M_max when masked): records are looked up per (E, layout, T bucket) and
  /// the heuristic sees one group's rows (ops/GroupedTile.h); groups = 0
  /// (compile() without a launch) takes m as one group's rows.
  Expected<compiler::TileConfig> tile_for(compiler::Arch arch, long long m, long long n, long long k,
                                          const ops::AdvisedDevice& device = {}, long long batch = 1,
                                          int sm_count = 0, int groups = 0) const;
  /// The architecture a launch on a device of `device_arch` compiles for:
  /// MatmulOptions::arch when forced; else the device's, except that on
  /// Hopper what the sm_90a (wgmma) kernel cannot serve (a gated op with aux,
  /// see ops::sm90a_kernel_serves) runs the sm_90 (mma.sync) kernel.
  compiler::Arch launch_arch(compiler::Arch device_arch) const;
  /// The kernel for (arch, tile), compiled on first use (outside the lock;
  /// the kernel cache runs one NVRTC compile for concurrent first launches).
  /// `built_now` (optional) says whether this call compiled or loaded it from the kernel cache.
  Expected<ops::GemmVariant*> variant(compiler::Arch arch, const compiler::TileConfig& tile,
                                      bool* built_now = nullptr);
  /// Checks, resolves the device, builds or finds the kernel and launches.
  Expected<void> launch(CUstream stream, const MatmulArgs& args, std::span<const float> values);
};

}  // namespace tilefuse::detail
