// Where a launch's tile comes from when the op does not force one: recorded
// tuning results first (runtime/tune/RecordedTiles.h implements this against
// the per-GPU tuning database), the target's heuristic otherwise.
//
// The interface lives here, below the tuner, because the ops facade must not
// depend on the tuner (the tuner compiles candidates through the ops facade).
// Every launch asks, so an advisor answers from memory after the first
// question per (op, architecture, shape bucket).
#pragma once

#include <memory>
#include <optional>

#include "compiler/Pipeline.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

/// The device a question is about: a launch knows it; MatmulOp::compile may
/// run where there is none (ordinal < 0).
struct AdvisedDevice {
  int ordinal = -1;
};

/// The problem a question is about: m x n x k; a grouped launch also names
/// its groups and layout (m is then T, or M_max when masked).
struct AdvisedProblem {
  long long m = 0, n = 0, k = 0;
  int groups = 0;  ///< 0: not grouped
  GroupLayout layout = GroupLayout::None;
};

/// Answers for one op on one architecture (its kernel signature is computed once).
class OpTileAdvisor {
 public:
  virtual ~OpTileAdvisor() = default;
  /// The recorded tile for `problem`, nullopt when nothing is recorded
  /// (use the heuristic). An error only when the user named a tuning file
  /// that cannot be used; problems with the default database are warnings.
  virtual Expected<std::optional<compiler::TileConfig>> recorded_tile(const AdvisedDevice& device,
                                                                      const AdvisedProblem& problem) = 0;
  /// A plain m x n x k launch.
  Expected<std::optional<compiler::TileConfig>> recorded_tile(const AdvisedDevice& device, long long m, long long n,
                                                              long long k) {
    return recorded_tile(device, AdvisedProblem{m, n, k});
  }
};

class TileAdvisor {
 public:
  virtual ~TileAdvisor() = default;
  /// The advisor for `spec` (its arch set, tile and shape hint unset).
  virtual std::unique_ptr<OpTileAdvisor> for_op(const compiler::KernelSpec& spec) = 0;
};

}  // namespace tilefuse::ops
