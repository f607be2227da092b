// See TuneReport.h.
#include "runtime/tune/TuneReport.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tilefuse::tune {
namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string optional_ms(const std::optional<double>& value) {
  return value ? fmt::format("{:.4f} ms", *value) : std::string("inf");
}

/// TFLOP/s of a GEMM of `shape` in `ms` (×2 for a gated pair; grouped: the
/// rows of every group, E x M_max when masked).
double tflops(const ProblemShape& shape, double ms, bool gated_pair) {
  const double flops = 2.0 * shape.output_rows() * shape.n * shape.k * (gated_pair ? 2 : 1);
  return flops / (ms * 1e-3) / 1e12;
}

}  // namespace

nlohmann::json to_json(const TuneResult& result) {
  nlohmann::json configs = nlohmann::json::array();
  for (const CandidateOutcome& o : result.outcomes) {
    nlohmann::json item = {{"config", to_string(o.candidate)},
                           {"tile", tune::to_json(o.candidate)},
                           {"status", to_string(o.status)},
                           {"time_ms", optional_number(o.time_ms)}};
    if (!o.failure.empty()) item["reason"] = o.failure;
    configs.push_back(std::move(item));
  }
  nlohmann::json pruned = nlohmann::json::array();
  for (const PrunedCandidate& p : result.pruned)
    pruned.push_back({{"config", to_string(p.candidate)}, {"reason", p.reason}});
  nlohmann::json json = {
      {"shape", to_string(result.shape)},
      {"bucket", to_string(result.bucket)},
      {"signature", result.signature},
      {"kernel", result.kernel},
      {"timer", result.timer},
      {"device", tune::to_json(result.device)},
      {"deterministic", result.deterministic},
      {"gated", result.gated},
      {"database", result.database.string()},
      {"chosen", to_string(result.chosen)},
      {"chosen_from", result.chosen_from},
      {"chosen_ms", optional_number(result.chosen_ms)},
      {"heuristic", to_string(result.heuristic)},
      {"heuristic_ms", optional_number(result.heuristic_ms)},
      {"heuristic_vs_best", optional_number(result.heuristic_vs_best)},
      {"counts",
       {{"candidates", result.outcomes.size()},
        {"compiled", result.compiled},
        {"compile_failures", result.compile_failures},
        {"timed", result.timed},
        {"timing_failures", result.timing_failures},
        {"recorded", result.recorded},
        {"skipped", result.skipped},
        {"pruned", result.pruned.size()}}},
      {"tuning_wall_s", result.wall_s},
      {"configs", std::move(configs)},
      {"pruned", std::move(pruned)},
  };
  // Grouped problems only, so that a plain report reads as before.
  if (result.shape.grouped()) {
    json["experts"] = result.shape.experts;
    json["layout"] = to_string(result.shape.layout);
  }
  return json;
}

std::string format_table(const TuneResult& result, std::size_t top) {
  std::string out = fmt::format("shape {} (bucket {}), {}, timer {}\n", to_string(result.shape),
                                to_string(result.bucket), result.kernel, result.timer);
  out += fmt::format("chosen    {} ({}) {}\n", to_string(result.chosen), result.chosen_from,
                     optional_ms(result.chosen_ms));
  out += fmt::format("heuristic {} {}", to_string(result.heuristic), optional_ms(result.heuristic_ms));
  if (result.heuristic_vs_best) out += fmt::format("  (heuristic_vs_best {:.3f})", *result.heuristic_vs_best);
  out += fmt::format("\n{:>4}  {:<32} {:>12} {:>9}  {}\n", "rank", "config", "time", "TFLOP/s", "status");
  std::size_t shown = 0, failed = 0, skipped = 0;
  for (const CandidateOutcome& o : result.outcomes) {
    if (!o.time_ms) {
      (o.status == OutcomeStatus::Skipped ? skipped : failed) += 1;
      continue;
    }
    if (shown >= top) continue;
    ++shown;
    out += fmt::format("{:>4}  {:<32} {:>12} {:>9.1f}  {}\n", shown, to_string(o.candidate),
                       optional_ms(o.time_ms), tflops(result.shape, *o.time_ms, result.gated),
                       to_string(o.status));
  }
  out += fmt::format("{} failed (+inf), {} skipped, {} pruned before compiling; wall {:.2f} s\n",
                     failed, skipped, result.pruned.size(), result.wall_s);
  return out;
}

}  // namespace tilefuse::tune
