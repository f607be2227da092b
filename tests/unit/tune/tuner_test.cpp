// The tuner with the simulated timer and a fake compiler: choice, ordering,
// +inf failures, recorded configs not re-timed, deterministic mode, budget,
// no GPU, compile overlapped with timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "TuneTestSupport.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/SimulatedTimer.h"
#include "runtime/tune/TuneReport.h"
#include "runtime/tune/Tuner.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

using testing::FakeCompiler;
using testing::ScratchDir;

constexpr ProblemShape kShape{128, 4096, 4096};

struct Fixture {
  ScratchDir dir;
  std::unique_ptr<compiler::TargetInfo> target = compiler::make_target(compiler::Arch::Sm80);
  SearchSpace space = build_search_space(*target, kShape, false);
  TuneRequest request{testing::gelu_spec(), kShape, false};

  TunerOptions options() const {
    TunerOptions o;
    o.cache_dir = dir.path();
    return o;
  }
  std::filesystem::path db_path() const {
    return tuning_db_path(dir.path(), simulated_device_identity());
  }
};

Expected<TuneResult> run(Fixture& f, CandidateCompiler& compiler, KernelTimer& timer,
                         TunerOptions options, ProblemShape shape = kShape) {
  Tuner tuner(compiler, timer, std::move(options));
  TuneRequest request = f.request;
  request.shape = shape;
  return tuner.tune(request, *f.target);
}

TEST(Tuner, ChoosesTheFastestAndReportsHeuristicVsBest) {
  Fixture f;
  FakeCompiler compiler;
  SimulatedTimer timer;
  auto result = run(f, compiler, timer, f.options());
  ASSERT_TRUE(result) << result.error().message;
  const std::size_t n = f.space.candidates.size();
  EXPECT_EQ(result->timed, n);
  EXPECT_EQ(timer.timed(), static_cast<int>(n));
  EXPECT_EQ(compiler.compiled().size(), n);

  const auto fastest = *std::min_element(
      f.space.candidates.begin(), f.space.candidates.end(), [](const Candidate& a, const Candidate& b) {
        return SimulatedTimer::simulated_ms(a, kShape) < SimulatedTimer::simulated_ms(b, kShape);
      });
  EXPECT_EQ(result->chosen, fastest);
  EXPECT_EQ(result->chosen_from, "tuned");
  EXPECT_EQ(result->chosen_ms, SimulatedTimer::simulated_ms(fastest, kShape));
  EXPECT_EQ(result->heuristic, f.space.heuristic);
  ASSERT_TRUE(result->heuristic_vs_best);
  EXPECT_DOUBLE_EQ(*result->heuristic_vs_best,
                   SimulatedTimer::simulated_ms(f.space.heuristic, kShape) / *result->chosen_ms);
  EXPECT_GE(*result->heuristic_vs_best, 1.0);
  for (std::size_t i = 1; i < result->outcomes.size(); ++i)
    EXPECT_LE(result->outcomes[i - 1].score_ms(), result->outcomes[i].score_ms());

  auto db = read_tuning_db(f.db_path(), simulated_device_identity());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->records().size(), n);
  EXPECT_EQ(db->best_for(kernel_signature(f.request.spec), kShape)->config, fastest);
}

TEST(Tuner, FailuresScoreInfinityWithTheirReasonAndTuningGoesOn) {
  Fixture f;
  ASSERT_GE(f.space.candidates.size(), 4u);
  const std::string compile_bad = to_string(f.space.candidates[1]);
  const std::string launch_bad = to_string(f.space.candidates[2]);
  FakeCompiler compiler;
  compiler.failures[compile_bad] = "ptxas: too many resources";
  SimulatedTimer timer;
  timer.inject_failure(launch_bad, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES");
  std::vector<std::string> log;
  TunerOptions options = f.options();
  options.log = [&log](const std::string& line) { log.push_back(line); };
  auto result = run(f, compiler, timer, options);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->compile_failures, 1u);
  EXPECT_EQ(result->timing_failures, 1u);
  EXPECT_EQ(result->timed, f.space.candidates.size() - 2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(log[0].find(compile_bad), std::string::npos);
  EXPECT_NE(log[0].find("too many resources"), std::string::npos);
  EXPECT_NE(log[1].find(launch_bad), std::string::npos);
  // Failures sort last, with +inf and their reason.
  const auto& last = result->outcomes[result->outcomes.size() - 1];
  const auto& second_last = result->outcomes[result->outcomes.size() - 2];
  for (const auto* o : {&last, &second_last}) {
    EXPECT_EQ(o->status, OutcomeStatus::Failed);
    EXPECT_FALSE(o->time_ms);
    EXPECT_EQ(o->score_ms(), std::numeric_limits<double>::infinity());
  }
  auto db = read_tuning_db(f.db_path(), simulated_device_identity());
  ASSERT_TRUE(db);
  const auto* recorded = db->find(kernel_signature(f.request.spec), bucket_for(kShape), f.space.candidates[2]);
  ASSERT_NE(recorded, nullptr);
  EXPECT_FALSE(recorded->time_ms);
  EXPECT_NE(recorded->failure.find("LAUNCH_OUT_OF_RESOURCES"), std::string::npos);
  // The JSON report keeps +inf as null and the reason.
  const auto json = to_json(*result);
  EXPECT_TRUE(json["configs"].back()["time_ms"].is_null());
  EXPECT_TRUE(json["configs"].back().contains("reason"));
}

TEST(Tuner, RecordedConfigsAreNotTimedAgainAndANewConfigIsTheOnlyOneTimed) {
  Fixture f;
  {
    FakeCompiler compiler;
    SimulatedTimer timer;
    ASSERT_TRUE(run(f, compiler, timer, f.options()));
  }
  {  // the same bucket (M = 100 rounds up to 128): nothing compiled, nothing timed
    FakeCompiler compiler;
    SimulatedTimer timer;
    auto again = run(f, compiler, timer, f.options(), {100, 4096, 4096});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(timer.timed(), 0);
    EXPECT_TRUE(compiler.compiled().empty());
    EXPECT_EQ(again->recorded, f.space.candidates.size());
  }
  // Forget one config, as if the space had grown by it since the last run.
  const Candidate added = f.space.candidates[3];
  nlohmann::json json = nlohmann::json::parse(std::ifstream(f.db_path()));
  auto& records = json["records"];
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&](const nlohmann::json& r) { return r["config_name"] == to_string(added); }),
                records.end());
  std::ofstream(f.db_path()) << json.dump();
  FakeCompiler compiler;
  SimulatedTimer timer;
  auto result = run(f, compiler, timer, f.options());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(timer.timed(), 1);
  EXPECT_EQ(compiler.compiled(), std::vector<std::string>{to_string(added)});
  EXPECT_EQ(result->timed, 1u);
  EXPECT_EQ(result->recorded, f.space.candidates.size() - 1);
}

TEST(Tuner, DeterministicModeUsesRecordedChoicesOnlyAndNeverTimes) {
  Fixture f;
  Candidate tuned;
  {
    FakeCompiler compiler;
    SimulatedTimer timer;
    auto result = run(f, compiler, timer, f.options());
    ASSERT_TRUE(result);
    tuned = result->chosen;
  }
  TunerOptions options = f.options();
  options.deterministic = true;
  FakeCompiler compiler;
  SimulatedTimer timer;
  auto same_bucket = run(f, compiler, timer, options, {97, 4096, 4096});
  ASSERT_TRUE(same_bucket) << same_bucket.error().message;
  EXPECT_EQ(same_bucket->chosen, tuned);
  EXPECT_EQ(same_bucket->chosen_from, "tuned");
  auto nearest = run(f, compiler, timer, options, {512, 4096, 4096});
  ASSERT_TRUE(nearest);
  EXPECT_EQ(nearest->chosen, tuned);
  EXPECT_EQ(nearest->chosen_from, "recorded-nearest");
  auto unknown = run(f, compiler, timer, options, {512, 1024, 4096});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->chosen.tile, f.target->default_tile(512, 1024, 4096));
  EXPECT_EQ(unknown->chosen_from, "heuristic");
  EXPECT_EQ(timer.timed(), 0);
  EXPECT_TRUE(compiler.compiled().empty());
  // Two deterministic runs agree (what ranks rely on).
  auto repeat = run(f, compiler, timer, options, {97, 4096, 4096});
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->chosen, same_bucket->chosen);

  ::setenv("TILEFUSE_TUNE", "deterministic", 1);
  EXPECT_TRUE(deterministic_from_environment());
  ::setenv("TILEFUSE_TUNE", "auto", 1);
  EXPECT_FALSE(deterministic_from_environment());
  ::unsetenv("TILEFUSE_TUNE");
  EXPECT_FALSE(deterministic_from_environment());
}

TEST(Tuner, ABudgetStopsTimingAfterTheHeuristic) {
  Fixture f;
  FakeCompiler compiler;
  SimulatedTimer timer;
  TunerOptions options = f.options();
  options.budget_s = 1e-9;
  auto result = run(f, compiler, timer, options);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(timer.timed(), 1);
  EXPECT_EQ(result->chosen, f.space.heuristic);
  EXPECT_EQ(result->skipped, f.space.candidates.size() - 1);
  EXPECT_EQ(result->heuristic_vs_best, 1.0);
  auto db = read_tuning_db(f.db_path(), simulated_device_identity());
  ASSERT_TRUE(db);
  EXPECT_EQ(db->records().size(), 1u);  // skipped configs stay untimed for the next run
}

/// A timer on a machine without a GPU.
class NoDeviceTimer final : public KernelTimer {
 public:
  Expected<DeviceIdentity> device() override { return error(); }
  Expected<void> ready() override { return error(); }
  Expected<Timing> time(const TimingJob&) override { return error(); }
  std::string name() const override { return "none"; }

 private:
  static Error error() {
    return make_error(ErrorCode::NoDevice, "no CUDA driver/GPU found: libcuda.so.1 could not be loaded");
  }
};

TEST(Tuner, WithoutAGpuEveryCandidateIsCompiledThenNoDeviceIsReturned) {
  Fixture f;
  FakeCompiler compiler;
  NoDeviceTimer timer;
  std::size_t progress_calls = 0;
  TunerOptions options = f.options();
  options.on_progress = [&](const TuneProgress&) { ++progress_calls; };
  auto result = run(f, compiler, timer, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::NoDevice);
  const std::size_t n = f.space.candidates.size();
  EXPECT_NE(result.error().message.find(fmt::format("compiled {} of {} candidates", n, n)),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("no CUDA driver/GPU"), std::string::npos);
  EXPECT_EQ(compiler.compiled().size(), n);
  EXPECT_EQ(progress_calls, n);
  EXPECT_FALSE(std::filesystem::exists(f.dir.path() / "tuning"));

  TunerOptions deterministic = f.options();
  deterministic.deterministic = true;
  auto d = run(f, compiler, timer, deterministic);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::NoDevice);
}

/// Blocks the timing of one candidate until the compiler has started a later
/// batch: passes only if compiling and timing overlap.
class OverlapTimer final : public KernelTimer {
 public:
  explicit OverlapTimer(std::string wait_on) : wait_on_(std::move(wait_on)) {}
  void batch_started(std::size_t index) {
    std::lock_guard lock(mutex_);
    if (index >= 1) later_batch_started_ = true;
    cv_.notify_all();
  }
  bool overlapped() const { return overlapped_; }

  Expected<DeviceIdentity> device() override { return inner_.device(); }
  Expected<void> ready() override { return {}; }
  Expected<Timing> time(const TimingJob& job) override {
    if (to_string(job.candidate) == wait_on_) {
      std::unique_lock lock(mutex_);
      overlapped_ = cv_.wait_for(lock, std::chrono::seconds(20), [&] { return later_batch_started_; });
    }
    return inner_.time(job);
  }
  std::string name() const override { return "simulated"; }

 private:
  SimulatedTimer inner_;
  std::string wait_on_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool later_batch_started_ = false;
  bool overlapped_ = false;
};

TEST(Tuner, CompilesTheNextBatchWhileTimingThisOne) {
  Fixture f;
  FakeCompiler compiler(/*parallelism=*/2);
  OverlapTimer timer(to_string(f.space.candidates[1]));  // the last of the first batch
  compiler.on_batch = [&timer](std::size_t index) { timer.batch_started(index); };
  std::vector<std::size_t> done;
  TunerOptions options = f.options();
  options.on_progress = [&](const TuneProgress& p) {
    done.push_back(p.done);
    EXPECT_EQ(p.total, f.space.candidates.size());
    EXPECT_GE(p.eta_s, 0.0);
  };
  auto result = run(f, compiler, timer, options);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(timer.overlapped());
  EXPECT_EQ(compiler.batches(), (f.space.candidates.size() + 1) / 2);
  ASSERT_EQ(done.size(), f.space.candidates.size());
  for (std::size_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i], i + 1);
}

TEST(TuneReport, TableShowsTheTopConfigsAndTheHeuristic) {
  Fixture f;
  FakeCompiler compiler;
  SimulatedTimer timer;
  auto result = run(f, compiler, timer, f.options());
  ASSERT_TRUE(result);
  const std::string table = format_table(*result, 3);
  EXPECT_NE(table.find("heuristic_vs_best"), std::string::npos) << table;
  EXPECT_NE(table.find(to_string(result->chosen)), std::string::npos);
  EXPECT_NE(table.find("   3  "), std::string::npos) << table;
  EXPECT_EQ(table.find("   4  "), std::string::npos) << table;
  const auto json = to_json(*result);
  EXPECT_EQ(json["chosen"], to_string(result->chosen));
  EXPECT_EQ(json["configs"].size(), f.space.candidates.size());
  EXPECT_EQ(json["heuristic_vs_best"], *result->heuristic_vs_best);
}

}  // namespace
}  // namespace tilefuse::tune
