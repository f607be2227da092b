// Autotuner benchmark (issue 5). On a GPU:
//   1. tune one (expression, shape) from a cold kernel cache and an empty
//      tuning database, as a user's first `tilefuse tune` would: tuning_wall_s;
//   2. time the whole pruned space exhaustively (kernels now cached);
//   3. write <out>/<gpu>-<date>/tuning.json with chosen_vs_exhaustive_best
//      (the chosen config's time / the fastest, both from the exhaustive run,
//      >= 1.0), heuristic_vs_best, tuning_wall_s and every config's time.
// Without a GPU it prints why and exits 77 (the ctest/automake "skipped" code).
//
//   tilefuse_tune_bench [--expr gelu(x)] [--shape 4096x4096x4096] [--out bench/results]
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/Target/TargetInfo.h"
#include "runtime/Driver.h"
#include "runtime/KernelCache.h"
#include "runtime/tune/CandidateCompiler.h"
#include "runtime/api/GpuTimer.h"
#include "runtime/tune/TuneReport.h"
#include "runtime/tune/Tuner.h"

namespace {

using namespace tilefuse;
constexpr int kExitSkipped = 77;

std::string today() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
  return text;
}

int fail(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tilefuse autotuner benchmark: tuned vs exhaustive vs heuristic"};
  std::string expr = "gelu(x)", shape_text = "4096x4096x4096", out = "bench/results";
  std::optional<double> budget_s;
  app.add_option("--expr", expr, "activation");
  app.add_option("--shape", shape_text, "MxNxK");
  app.add_option("--out", out, "results directory (a <gpu>-<date> folder is made in it)");
  app.add_option("--budget-s", budget_s, "tuning budget");
  CLI11_PARSE(app, argc, argv);

  // A cold kernel cache of its own, before anything touches the process cache.
  const auto scratch = std::filesystem::temp_directory_path() /
                       fmt::format("tilefuse-tune-bench-{}", ::getpid());
  ::setenv("TILEFUSE_CACHE_DIR", (scratch / "kernels").c_str(), 1);

  tune::GpuTimer timer;
  if (auto ready = timer.ready(); !ready) {
    fmt::print("skipped: {}\n", ready.error().message);
    return kExitSkipped;
  }
  auto device = timer.device();
  if (!device) return fail(device.error());
  auto info = runtime::query_device(0);
  if (!info) return fail(info.error());
  auto arch_name = runtime::arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch_name) return fail(arch_name.error());
  auto arch = compiler::parse_arch(*arch_name);
  auto shape = tune::parse_shape(shape_text);
  if (!arch || !shape) return fail(!arch ? arch.error() : shape.error());

  compiler::KernelSpec spec;
  spec.expression = expr;
  spec.arch = *arch;
  auto gated = tune::is_gated(spec);
  if (!gated) return fail(gated.error());
  auto target = compiler::make_target(*arch);
  tune::CacheCandidateCompiler compiler(runtime::process_kernel_cache());
  const tune::TuneRequest request{spec, *shape, *gated};

  tune::TunerOptions tuning;
  tuning.budget_s = budget_s;
  tuning.cache_dir = scratch;  // an empty tuning database
  tuning.log = [](const std::string& line) { fmt::print(stderr, "warning: {}\n", line); };
  auto tuned = tune::Tuner(compiler, timer, tuning).tune(request, *target);
  if (!tuned) return fail(tuned.error());

  tune::TunerOptions exhaustive_options;  // every config, in memory, timed again
  exhaustive_options.retime = true;
  exhaustive_options.log = tuning.log;
  auto exhaustive = tune::Tuner(compiler, timer, exhaustive_options).tune(request, *target);
  if (!exhaustive) return fail(exhaustive.error());
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);

  std::optional<double> chosen_in_exhaustive;
  for (const auto& o : exhaustive->outcomes)
    if (o.candidate == tuned->chosen) chosen_in_exhaustive = o.time_ms;
  if (!chosen_in_exhaustive || !exhaustive->chosen_ms)
    return fail(make_error(ErrorCode::Internal,
                           fmt::format("the chosen config {} has no time in the exhaustive run",
                                       tune::to_string(tuned->chosen))));
  const double chosen_vs_best = *chosen_in_exhaustive / *exhaustive->chosen_ms;

  nlohmann::json per_config = nlohmann::json::array();
  for (const auto& o : exhaustive->outcomes)
    per_config.push_back({{"config", tune::to_string(o.candidate)},
                          {"time_ms", o.time_ms ? nlohmann::json(*o.time_ms) : nlohmann::json(nullptr)},
                          {"reason", o.failure}});
  const nlohmann::json report = {
      {"gpu", info->name},
      {"device", tune::to_json(*device)},
      {"date", today()},
      {"expression", expr},
      {"shape", tune::to_string(*shape)},
      {"tuning_wall_s", tuned->wall_s},
      {"chosen", tune::to_string(tuned->chosen)},
      {"exhaustive_best", tune::to_string(exhaustive->chosen)},
      {"chosen_vs_exhaustive_best", chosen_vs_best},
      {"heuristic", tune::to_string(exhaustive->heuristic)},
      {"heuristic_vs_best", exhaustive->heuristic_vs_best ? nlohmann::json(*exhaustive->heuristic_vs_best)
                                                          : nlohmann::json(nullptr)},
      {"exhaustive_wall_s", exhaustive->wall_s},
      {"per_config_ms", std::move(per_config)},
      {"tuning_run", tune::to_json(*tuned)},
  };
  const auto dir = std::filesystem::path(out) /
                   fmt::format("{}-{}", tune::device_key(*device).substr(0, tune::device_key(*device).find('_')), today());
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(make_error(ErrorCode::IoError, fmt::format("cannot create {}: {}", dir.string(), ec.message())));
  std::ofstream(dir / "tuning.json") << report.dump(2) << "\n";

  fmt::print("{}", tune::format_table(*exhaustive, 10));
  fmt::print("tuning {:.2f} s wall; chosen {} is {:.3f}x the exhaustive best {}; heuristic {:.3f}x\n",
             tuned->wall_s, tune::to_string(tuned->chosen), chosen_vs_best,
             tune::to_string(exhaustive->chosen), exhaustive->heuristic_vs_best.value_or(0));
  fmt::print("wrote {}\n", (dir / "tuning.json").string());
  return 0;
}
