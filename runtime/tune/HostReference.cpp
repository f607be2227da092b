// See HostReference.h.
#include "runtime/tune/HostReference.h"

#include <algorithm>

#include <fmt/format.h>

namespace tilefuse::tune {

namespace {

/// Whether `offsets` are E+1 ascending row offsets from 0 to m (empty: not grouped).
bool valid_offsets(std::span<const int> offsets, long long m) {
  if (offsets.empty()) return true;
  if (offsets.size() < 2 || offsets.front() != 0 || offsets.back() != m) return false;
  return std::is_sorted(offsets.begin(), offsets.end());
}

/// The group of `row`: the last e with offsets[e] <= row (empty groups skipped).
long long group_of(std::span<const int> offsets, long long row) {
  if (offsets.empty()) return 0;
  const auto after = std::upper_bound(offsets.begin(), offsets.end() - 1, row);
  return static_cast<long long>(after - offsets.begin()) - 1;
}

}  // namespace

Expected<double> host_reference_element(const HostGemm& g, const dsl::ResolvedProgram& program,
                                        const dsl::ParameterValues& parameters, long long row, long long col) {
  const bool interleaved = g.gated && g.gate_interleave > 0;
  const long long features = interleaved ? 2 * g.n : g.n;
  const long long groups = g.group_offsets.empty() ? 1 : static_cast<long long>(g.group_offsets.size()) - 1;
  const auto size = [](std::span<const float> s) { return static_cast<long long>(s.size()); };
  const bool fits = row >= 0 && row < g.m && col >= 0 && col < g.n && size(g.a) >= g.m * g.k &&
                    size(g.b) >= groups * g.k * features &&
                    (!g.gated || interleaved || size(g.b_up) >= groups * g.k * g.n) &&
                    (g.bias.empty() || size(g.bias) >= groups * g.n) && (g.c.empty() || size(g.c) >= g.m * g.n) &&
                    std::all_of(g.row_inputs.begin(), g.row_inputs.end(),
                                [&](const auto& in) { return size(in.second) >= g.m; }) &&
                    std::all_of(g.col_inputs.begin(), g.col_inputs.end(),
                                [&](const auto& in) { return size(in.second) >= groups * g.n; });
  if (!fits)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("host reference: element ({}, {}) of a {}x{}x{} problem ({} groups) is "
                                  "outside the output or the inputs are too short",
                                  row, col, g.m, g.n, g.k, groups));
  if (!valid_offsets(g.group_offsets, g.m))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("host reference: the {} group offsets are not ascending from 0 to m = {}",
                                  g.group_offsets.size(), g.m));
  const long long group = group_of(g.group_offsets, row);
  auto weight = [&](std::span<const float> w, long long kk, long long feature) -> double {
    const long long base = group * g.k * features;
    return g.b_col_major ? w[base + feature * g.k + kk] : w[base + kk * features + feature];
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
    if (!g.bias.empty()) pre += g.bias[group * g.n + col];
    if (!g.c.empty()) pre += static_cast<double>(g.beta) * g.c[row * g.n + col];
    inputs.x = pre;
  }
  for (const auto& [name, values] : g.row_inputs) inputs.rows[name] = values[row];
  for (const auto& [name, values] : g.col_inputs) inputs.cols[name] = values[group * g.n + col];
  return dsl::evaluate(program, inputs, parameters);
}

}  // namespace tilefuse::tune
