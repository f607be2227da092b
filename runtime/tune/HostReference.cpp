// See HostReference.h.
#include "runtime/tune/HostReference.h"

#include <fmt/format.h>

namespace tilefuse::tune {

Expected<double> host_reference_element(const HostGemm& g, const dsl::ResolvedProgram& program,
                                        const dsl::ParameterValues& parameters, long long row, long long col) {
  const bool interleaved = g.gated && g.gate_interleave > 0;
  const long long features = interleaved ? 2 * g.n : g.n;
  const auto size = [](std::span<const float> s) { return static_cast<long long>(s.size()); };
  const bool fits = row >= 0 && row < g.m && col >= 0 && col < g.n && size(g.a) >= g.m * g.k &&
                    size(g.b) >= g.k * features && (!g.gated || interleaved || size(g.b_up) >= g.k * g.n) &&
                    (g.bias.empty() || size(g.bias) >= g.n) && (g.c.empty() || size(g.c) >= g.m * g.n);
  if (!fits)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("host reference: element ({}, {}) of a {}x{}x{} problem is outside the "
                                  "output or the inputs are too short",
                                  row, col, g.m, g.n, g.k));
  auto weight = [&](std::span<const float> w, long long kk, long long feature) -> double {
    return g.b_col_major ? w[feature * g.k + kk] : w[kk * features + feature];
  };
  long long gate_feature = col, up_feature = col;
  if (interleaved) {
    const long long block = g.gate_interleave;
    gate_feature = (col / block) * 2 * block + col % block;
    up_feature = gate_feature + block;
  }
  double acc = 0, up = 0;
  for (long long kk = 0; kk < g.k; ++kk) {
    const double a = g.a[row * g.k + kk];
    acc += a * weight(g.b, kk, gate_feature);
    if (g.gated) up += a * weight(interleaved ? g.b : g.b_up, kk, up_feature);
  }
  dsl::InputValues inputs;
  if (g.gated) {
    inputs.gate = acc;
    inputs.up = up;
  } else {
    double pre = static_cast<double>(g.alpha) * acc;
    if (!g.bias.empty()) pre += g.bias[col];
    if (!g.c.empty()) pre += static_cast<double>(g.beta) * g.c[row * g.n + col];
    inputs.x = pre;
  }
  return dsl::evaluate(program, inputs, parameters);
}

}  // namespace tilefuse::tune
