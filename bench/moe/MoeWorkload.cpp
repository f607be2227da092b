// See MoeWorkload.h.
#include "MoeWorkload.h"

#include <cmath>
#include <numeric>
#include <random>

namespace tilefuse::bench {

std::vector<MoeModel> moe_models() {
  return {
      {"mixtral-8x7b", 8, 2, 4096, 14336},
      {"qwen3-30b-a3b", 128, 8, 2048, 768},
      {"deepseek-v3", 256, 8, 7168, 2048},
  };
}

const char* to_string(Routing routing) { return routing == Routing::Balanced ? "balanced" : "skewed"; }

std::vector<int> route_counts(const MoeModel& model, long long tokens, Routing routing, std::uint64_t seed) {
  std::vector<int> counts(static_cast<size_t>(model.experts), 0);
  if (routing == Routing::Balanced) {
    for (long long t = 0; t < tokens; ++t)
      for (int j = 0; j < model.top_k; ++j) ++counts[static_cast<size_t>((t * model.top_k + j) % model.experts)];
    return counts;
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> weight(counts.size());
  for (double& w : weight) w = std::exp(normal(rng));
  std::vector<double> remaining(weight.size());
  for (long long t = 0; t < tokens; ++t) {
    remaining = weight;  // k distinct experts: a chosen one leaves the draw
    for (int j = 0; j < model.top_k; ++j) {
      std::discrete_distribution<int> pick(remaining.begin(), remaining.end());
      const int e = pick(rng);
      ++counts[static_cast<size_t>(e)];
      remaining[static_cast<size_t>(e)] = 0.0;
    }
  }
  return counts;
}

std::vector<int> offsets_of(const std::vector<int>& counts) {
  std::vector<int> offsets(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), offsets.begin() + 1);
  return offsets;
}

}  // namespace tilefuse::bench
