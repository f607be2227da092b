// The mixture-of-experts workloads of the grouped benchmark (issue 15 item
// 7): the expert shapes of three models, token counts, and seeded top-k
// routing, balanced or skewed like a trained router. Only the group sizes
// matter for timing (which token goes where does not), so a routing is the
// rows each expert receives; the benchmark writes them into its results, and
// the Python peers (bench/peers/moe_peers.py) read them from there, so every
// implementation is timed on the same groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tilefuse::bench {

struct MoeModel {
  std::string name;
  int experts = 0, top_k = 0;
  long long d_model = 0, hidden = 0;  ///< gate/up: [E, hidden, d_model]; down: [E, d_model, hidden]
};

/// Mixtral-8x7B, Qwen3-30B-A3B and DeepSeek-V3's routed experts (their config.json).
std::vector<MoeModel> moe_models();

enum class Routing { Balanced, Skewed };
const char* to_string(Routing routing);  // "balanced" | "skewed"

/// Rows per expert for `tokens` tokens, each routed to top_k distinct experts
/// (the counts sum to tokens x top_k; none exceeds tokens):
///  - Balanced: token t takes experts (t·k + j) mod E, j < k: counts differ by at most one;
///  - Skewed: each token draws k distinct experts with probabilities
///    ∝ exp(1.0 · z_e), z_e ~ N(0, 1) fixed per (seed, expert): a few hot experts and a
///    long tail, as measured routers show; reproducible from `seed`.
std::vector<int> route_counts(const MoeModel& model, long long tokens, Routing routing, std::uint64_t seed);

/// E+1 ascending row offsets (exclusive prefix sum) of `counts`.
std::vector<int> offsets_of(const std::vector<int>& counts);

}  // namespace tilefuse::bench
