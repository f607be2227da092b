// The candidates the autotuner compiles and times for one problem: the
// target's tile space (TargetInfo::tile_space), pruned before any compile
// (compiler/Target/TilePruning.h), with split-K variants where M·N is small,
// ordered so that the most promising are timed first (a budget may stop the
// tuner before the end of the list).
#pragma once

#include <string>
#include <vector>

#include "compiler/Target/TargetInfo.h"
#include "runtime/tune/Candidate.h"
#include "compiler/Types.h"

namespace tilefuse::tune {

/// One GEMM problem: D is M x N, reduction over K. A grouped (mixture of
/// experts) problem has `experts` groups in `layout` (GroupLayout): m is the
/// token rows T of all groups (Contiguous) or the rows M_max of each group
/// (Masked); every group multiplies by its own K x N weights.
struct ProblemShape {
  long long m = 0, n = 0, k = 0;
  int experts = 0;  ///< 0 unless grouped
  GroupLayout layout = GroupLayout::None;
  bool operator==(const ProblemShape&) const = default;

  bool grouped() const { return layout != GroupLayout::None; }
  /// Rows one group holds with balanced routing: ceil(T / E) (Contiguous),
  /// M_max (Masked), m (not grouped). What a tile is chosen for.
  long long rows_per_group() const;
  /// Rows of D: T (Contiguous, not grouped) or E x M_max (Masked).
  long long output_rows() const;
};
/// "MxNxK"; grouped: "MxNxK/e<E>/<layout>" (e.g. "4096x768x2048/e128/contiguous").
std::string to_string(const ProblemShape& shape);
/// `shapes` as grouped problems of `experts` groups in `layout` (M is T
/// for Contiguous, M_max for Masked); InvalidInput when experts < 1 or the
/// layout is None.
Expected<std::vector<ProblemShape>> as_grouped(std::vector<ProblemShape> shapes, int experts,
                                                GroupLayout layout);
/// Parses "4096x4096x4096"; InvalidInput unless three positive integers.
Expected<ProblemShape> parse_shape(const std::string& text);
/// Parses "MxNxK[,MxNxK...]".
Expected<std::vector<ProblemShape>> parse_shape_list(const std::string& text);

/// Output tiles at most this large (M·N elements) get split-K candidates:
/// below it there are too few blocks to fill an H100's 132 SMs with 128x128 tiles.
inline constexpr long long kSplitKMaxOutputElements = 1024LL * 1024;
/// Split-K factors modelled in the space.
inline constexpr int kSplitKFactors[] = {2, 4};
/// Why split-K candidates are pruned today.
inline constexpr const char* kSplitKUnsupported = "split-K is not yet supported by the sm80 and sm90 templates";

struct PrunedCandidate {
  Candidate candidate;
  std::string reason;
};

struct SearchSpace {
  /// The zero-GPU-time choice (TargetInfo::default_tile, fitted to a gated
  /// op by fit_tile_to_gated as the launch path does); always candidates[0],
  /// even where a pruning rule would drop it, so its time is always known.
  Candidate heuristic;
  std::vector<Candidate> candidates;
  std::vector<PrunedCandidate> pruned;
};

/// Heuristic first, then by descending model_score, then by name (a total,
/// deterministic order).
SearchSpace build_search_space(const compiler::TargetInfo& target, const ProblemShape& shape,
                               bool gated);

/// A cheap, GPU-free estimate of how good `candidate` is for `shape` (higher
/// is better): the useful fraction of the padded output times the block's
/// arithmetic intensity. Only orders the list; timings decide.
double model_score(const Candidate& candidate, const ProblemShape& shape);

}  // namespace tilefuse::tune
