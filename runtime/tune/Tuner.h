// The autotuner for one (kernel, shape):
//
//   space  = build_search_space(target, shape)      pruned before any compile
//   recorded configs of this (signature, bucket)    taken from the database, not re-timed
//   the rest, in batches of the compile parallelism:
//     compile batch b+1 (KernelCache::compile_many, in the background)
//     while timing batch b (serially: one kernel on the GPU at a time)
//   new records merged into the database after every batch
//
// A candidate that fails to compile or to run scores +inf with its reason
// (logged and recorded) and never stops tuning. A budget stops timing new
// candidates once spent (the heuristic is always timed). With no GPU every
// candidate is still compiled, then the timer's NoDevice error is returned.
// In deterministic mode nothing is compiled or timed: the recorded choice
// (or the heuristic when there is none) is returned.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "runtime/tune/CandidateCompiler.h"
#include "runtime/tune/KernelTimer.h"
#include "runtime/tune/SearchSpace.h"
#include "runtime/tune/ShapeBucket.h"

namespace tilefuse::tune {

enum class OutcomeStatus {
  Timed,     ///< measured in this run
  Recorded,  ///< taken from the database
  Failed,    ///< compile or timing failed (this run): +inf
  Skipped,   ///< not timed: the budget was spent
};
const char* to_string(OutcomeStatus status);  // "timed" | "recorded" | "failed" | "skipped"

struct CandidateOutcome {
  Candidate candidate;
  OutcomeStatus status = OutcomeStatus::Skipped;
  std::optional<double> time_ms;  ///< nullopt: +inf (failed, skipped, or recorded as failed)
  std::string failure;            ///< why there is no time
  double score_ms() const;
};

struct TuneProgress {
  std::size_t done = 0, total = 0;  ///< candidates
  double elapsed_s = 0;
  double eta_s = 0;  ///< from the measured rate; 0 until one is measured
  const CandidateOutcome* last = nullptr;
};

struct TuneRequest {
  compiler::KernelSpec spec;  ///< its tile and shape_hint are ignored
  ProblemShape shape;
  bool gated = false;  ///< is_gated(spec)
};

struct TunerOptions {
  std::optional<double> budget_s;  ///< stop timing new candidates after this much wall time
  bool deterministic = false;      ///< recorded choices only; never compile or time
  bool retime = false;             ///< time again what the database already has
  std::size_t batch_size = 0;      ///< candidates per compile batch; 0: compiler parallelism
  /// Cache directory whose tuning/<device key>.json holds the records
  /// (tuning_db_path); empty: keep records in memory only.
  std::filesystem::path cache_dir;
  std::function<void(const TuneProgress&)> on_progress;
  /// Receives one line per failed candidate (its reason).
  std::function<void(const std::string&)> log;
};

struct TuneResult {
  ProblemShape shape;
  ShapeBucket bucket;
  std::string signature, kernel;
  std::string timer;       ///< KernelTimer::name()
  DeviceIdentity device;
  std::filesystem::path database;  ///< the file read and updated (empty: none)
  bool gated = false;
  Candidate heuristic;
  std::optional<double> heuristic_ms;
  Candidate chosen;        ///< the fastest known config (the heuristic when none is known)
  std::optional<double> chosen_ms;
  /// heuristic_ms / chosen_ms (>= 1) when both are known.
  std::optional<double> heuristic_vs_best;
  /// "tuned" (measured now or recorded for this bucket), "recorded-nearest" (a
  /// neighbouring M bucket, deterministic mode) or "heuristic".
  std::string chosen_from;
  std::vector<CandidateOutcome> outcomes;  ///< fastest first, then +inf by name
  std::vector<PrunedCandidate> pruned;
  std::size_t compiled = 0, compile_failures = 0, timed = 0, timing_failures = 0, recorded = 0,
              skipped = 0;
  double wall_s = 0;
  bool deterministic = false;
};

/// TILEFUSE_TUNE=deterministic in the environment.
bool deterministic_from_environment();

class Tuner {
 public:
  Tuner(CandidateCompiler& compiler, KernelTimer& timer, TunerOptions options);
  Expected<TuneResult> tune(const TuneRequest& request, const compiler::TargetInfo& target);

 private:
  CandidateCompiler& compiler_;
  KernelTimer& timer_;
  TunerOptions options_;
};

}  // namespace tilefuse::tune
