// See Tuner.h.
#include "runtime/tune/Tuner.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Fastest first; +inf (failed, skipped) after, by name, so the order is total.
void sort_outcomes(std::vector<CandidateOutcome>& outcomes) {
  std::stable_sort(outcomes.begin(), outcomes.end(),
                   [](const CandidateOutcome& a, const CandidateOutcome& b) {
                     if (a.score_ms() != b.score_ms()) return a.score_ms() < b.score_ms();
                     return to_string(a.candidate) < to_string(b.candidate);
                   });
}

/// Fills chosen / heuristic fields from the (sorted) outcomes.
void summarize(TuneResult& result) {
  sort_outcomes(result.outcomes);
  for (const CandidateOutcome& o : result.outcomes)
    if (o.candidate == result.heuristic) result.heuristic_ms = o.time_ms;
  if (!result.outcomes.empty() && result.outcomes.front().time_ms) {
    result.chosen = result.outcomes.front().candidate;
    result.chosen_ms = result.outcomes.front().time_ms;
    if (result.chosen_from.empty()) result.chosen_from = "tuned";
  } else {
    result.chosen = result.heuristic;
    result.chosen_ms = result.heuristic_ms;
    result.chosen_from = "heuristic";
  }
  if (result.heuristic_ms && result.chosen_ms)
    result.heuristic_vs_best = *result.heuristic_ms / *result.chosen_ms;
}

CandidateOutcome outcome_from_record(const TuningRecord& record) {
  return CandidateOutcome{record.config, OutcomeStatus::Recorded, record.time_ms, record.failure};
}

/// The tuner's in-progress state for one request.
class Run {
 public:
  Run(CandidateCompiler& compiler, KernelTimer& timer, const TunerOptions& options,
      const TuneRequest& request, TuneResult& result)
      : compiler_(compiler), timer_(timer), options_(options), request_(request), result_(result) {}

  /// Compiles and (when `can_time`) times `todo`; records go to `pending_`.
  Expected<void> measure(const std::vector<Candidate>& todo, bool can_time) {
    const std::size_t batch =
        std::max<std::size_t>(2, options_.batch_size ? options_.batch_size : compiler_.parallelism());
    auto compile_batch = [this, &todo, batch](std::size_t first) {
      const std::size_t count = std::min(batch, todo.size() - first);
      return compiler_.compile(request_.spec, std::span(todo).subspan(first, count));
    };
    std::future<std::vector<Expected<void>>> next;
    if (!todo.empty()) next = std::async(std::launch::async, compile_batch, 0);
    for (std::size_t first = 0; first < todo.size(); first += batch) {
      std::vector<Expected<void>> compiled = next.get();
      const std::size_t following = first + batch;
      if (following < todo.size() && !budget_spent())
        next = std::async(std::launch::async, compile_batch, following);
      for (std::size_t i = 0; i < compiled.size(); ++i)
        handle(todo[first + i], std::move(compiled[i]), can_time);
      if (auto saved = save(); !saved) return saved;
      if (following < todo.size() && !next.valid()) {  // budget spent: the rest is skipped
        for (std::size_t i = following; i < todo.size(); ++i)
          finish({todo[i], OutcomeStatus::Skipped, std::nullopt,
                  fmt::format("not timed: the {:.1f} s budget was spent", *options_.budget_s)});
        break;
      }
    }
    return {};
  }

  void add_recorded(const TuningRecord& record) {
    ++result_.recorded;
    finish(outcome_from_record(record));
  }

  void set_total(std::size_t total) { total_ = total; }
  void set_device(const DeviceIdentity& device) { device_ = device; }

 private:
  bool budget_spent() const {
    return options_.budget_s && measured_ > 0 && seconds_since(start_) > *options_.budget_s;
  }

  void handle(const Candidate& candidate, Expected<void> compiled, bool can_time) {
    if (!compiled) {
      ++result_.compile_failures;
      fail(candidate, fmt::format("compile failed: {}", compiled.error().message));
      return;
    }
    ++result_.compiled;
    if (!can_time) {
      finish({candidate, OutcomeStatus::Skipped, std::nullopt, "compiled; not timed: no GPU"});
      return;
    }
    if (budget_spent()) {
      finish({candidate, OutcomeStatus::Skipped, std::nullopt,
              fmt::format("not timed: the {:.1f} s budget was spent", *options_.budget_s)});
      return;
    }
    auto timing = timer_.time(TimingJob{&request_.spec, request_.shape, candidate});
    ++measured_;
    if (!timing) {
      ++result_.timing_failures;
      fail(candidate, fmt::format("timing failed: {}", timing.error().message));
      return;
    }
    ++result_.timed;
    record(candidate, timing->median_ms, timing->repetitions, {});
    finish({candidate, OutcomeStatus::Timed, timing->median_ms, {}});
  }

  void fail(const Candidate& candidate, std::string reason) {
    if (options_.log) options_.log(fmt::format("{}: {}", to_string(candidate), reason));
    record(candidate, std::nullopt, 0, reason);
    finish({candidate, OutcomeStatus::Failed, std::nullopt, std::move(reason)});
  }

  void record(const Candidate& candidate, std::optional<double> time_ms, int repetitions,
              std::string failure) {
    if (!device_) return;  // nothing can be timed: nothing is recorded
    pending_.push_back(TuningRecord{result_.signature, result_.bucket, candidate, time_ms,
                                    std::move(failure), result_.kernel, timer_.name(),
                                    repetitions, utc_timestamp()});
  }

  void finish(CandidateOutcome outcome) {
    if (outcome.status == OutcomeStatus::Skipped) ++result_.skipped;
    result_.outcomes.push_back(std::move(outcome));
    ++done_;
    if (!options_.on_progress) return;
    const double elapsed = seconds_since(start_);
    TuneProgress progress{done_, total_, elapsed, 0, &result_.outcomes.back()};
    if (measured_ > 0 && total_ > done_)
      progress.eta_s = elapsed / static_cast<double>(done_ - result_.recorded) *
                       static_cast<double>(total_ - done_);
    options_.on_progress(progress);
  }

  Expected<void> save() {
    if (pending_.empty() || result_.database.empty() || !device_) return {};
    auto merged = update_tuning_db(result_.database, *device_, pending_);
    if (!merged) return merged.take_error();
    pending_.clear();
    return {};
  }

  CandidateCompiler& compiler_;
  KernelTimer& timer_;
  const TunerOptions& options_;
  const TuneRequest& request_;
  TuneResult& result_;
  std::optional<DeviceIdentity> device_;
  std::vector<TuningRecord> pending_;
  Clock::time_point start_ = Clock::now();
  std::size_t done_ = 0, total_ = 0, measured_ = 0;
};

}  // namespace

const char* to_string(OutcomeStatus status) {
  switch (status) {
    case OutcomeStatus::Timed: return "timed";
    case OutcomeStatus::Recorded: return "recorded";
    case OutcomeStatus::Failed: return "failed";
    case OutcomeStatus::Skipped: return "skipped";
  }
  return "unknown";
}

double CandidateOutcome::score_ms() const {
  return time_ms ? *time_ms : std::numeric_limits<double>::infinity();
}

bool deterministic_from_environment() {
  const char* mode = std::getenv("TILEFUSE_TUNE");
  return mode && std::string_view(mode) == "deterministic";
}

Tuner::Tuner(CandidateCompiler& compiler, KernelTimer& timer, TunerOptions options)
    : compiler_(compiler), timer_(timer), options_(std::move(options)) {}

Expected<TuneResult> Tuner::tune(const TuneRequest& request, const compiler::TargetInfo& target) {
  const auto start = Clock::now();
  TuneResult result;
  result.shape = request.shape;
  result.bucket = bucket_for(request.shape);
  result.signature = kernel_signature(request.spec);
  result.kernel = kernel_description(request.spec);
  result.timer = timer_.name();
  result.deterministic = options_.deterministic;
  result.gated = request.gated;
  SearchSpace space = build_search_space(target, request.shape, request.gated);
  result.heuristic = space.heuristic;
  result.pruned = std::move(space.pruned);

  Expected<void> ready = timer_.ready();
  std::optional<DeviceIdentity> device;
  TuningDb db(simulated_device_identity());
  if (ready) {
    auto identity = timer_.device();
    if (!identity) return identity.take_error();
    device = *identity;
    result.device = *identity;
    if (!options_.cache_dir.empty()) {
      result.database = tuning_db_path(options_.cache_dir, *device);
      auto loaded = read_tuning_db(result.database, *device);
      if (!loaded) return loaded.take_error();
      db = std::move(*loaded);
    }
  }

  if (options_.deterministic) {
    if (!ready) return ready.take_error();  // the database is per GPU: it must be known
    for (const TuningRecord& r : db.ranked(result.signature, result.bucket))
      result.outcomes.push_back(outcome_from_record(r));
    result.recorded = result.outcomes.size();
    if (auto best = db.best_for(result.signature, request.shape);
        best && !(best->bucket == result.bucket)) {
      result.chosen_from = "recorded-nearest";
      result.outcomes.insert(result.outcomes.begin(), outcome_from_record(*best));
    }
    summarize(result);
    result.wall_s = seconds_since(start);
    return result;
  }

  Run run(compiler_, timer_, options_, request, result);
  if (device) run.set_device(*device);
  std::vector<Candidate> todo;
  std::vector<TuningRecord> known;
  if (!options_.retime) known = db.ranked(result.signature, result.bucket);
  for (const Candidate& c : space.candidates) {
    const bool recorded = std::any_of(known.begin(), known.end(),
                                      [&](const TuningRecord& r) { return r.config == c; });
    if (!recorded) todo.push_back(c);
  }
  run.set_total(space.candidates.size() + known.size() -
                (space.candidates.size() - todo.size()));
  // Recorded configs count whether or not today's space still holds them.
  for (const TuningRecord& r : known) run.add_recorded(r);
  if (auto measured = run.measure(todo, static_cast<bool>(ready)); !measured)
    return measured.take_error();
  result.wall_s = seconds_since(start);
  if (!ready)
    return make_error(ready.error().code,
                      fmt::format("compiled {} of {} candidates ({} failed to compile), but "
                                  "cannot time them: {}",
                                  result.compiled, todo.size(), result.compile_failures,
                                  ready.error().message),
                      ready.error().detail);
  summarize(result);
  return result;
}

}  // namespace tilefuse::tune
