// How a tuning result is shown: one JSON object (for `tilefuse tune --json`
// and the benchmark) and a plain-text table of the fastest configs.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "runtime/tune/Tuner.h"

namespace tilefuse::tune {

/// Every field of `result`; "configs" lists every outcome (fastest first),
/// "pruned" every pruned candidate with its reason. +inf times are null.
nlohmann::json to_json(const TuneResult& result);

/// The header (shape, kernel, chosen config, heuristic_vs_best) and the
/// `top` fastest configs, then a count of the failed/skipped/pruned ones.
std::string format_table(const TuneResult& result, std::size_t top);

}  // namespace tilefuse::tune
