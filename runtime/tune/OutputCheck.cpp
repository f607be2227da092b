// See OutputCheck.h.
#include "runtime/tune/OutputCheck.h"

#include <cmath>
#include <random>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace tilefuse::tune {

std::vector<ReferenceSample> sample_positions(long long m, long long n, int count) {
  std::vector<ReferenceSample> samples;
  if (m < 1 || n < 1 || count < 1) return samples;
  std::set<std::pair<long long, long long>> taken;
  auto add = [&](long long row, long long col) {
    if (static_cast<int>(samples.size()) < count && taken.emplace(row, col).second)
      samples.push_back({row, col, 0.0});
  };
  add(0, 0);
  add(0, n - 1);
  add(m - 1, 0);
  add(m - 1, n - 1);
  const long long total = m * n;
  if (total <= count) {
    for (long long i = 0; i < total; ++i) add(i / n, i % n);
    return samples;
  }
  std::mt19937_64 rng(0x7113f00d);
  std::uniform_int_distribution<long long> row(0, m - 1), col(0, n - 1);
  while (static_cast<int>(samples.size()) < count) add(row(rng), col(rng));
  return samples;
}

Expected<std::vector<ReferenceSample>> reference_samples(long long m, long long n, int count,
                                                         const ReferenceSampler& reference) {
  std::vector<ReferenceSample> samples = sample_positions(m, n, count);
  for (ReferenceSample& s : samples) {
    auto value = reference(s.row, s.col);
    if (!value) return value.take_error();
    s.value = *value;
  }
  return samples;
}

double relative_error(std::span<const double> out, std::span<const double> ref) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < out.size() && i < ref.size(); ++i) {
    if (std::isfinite(out[i]) != std::isfinite(ref[i])) return INFINITY;
    if (!std::isfinite(ref[i])) continue;
    diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

std::optional<std::string> check_candidate_output(std::span<const float> out, long long n,
                                                  std::span<const ReferenceSample> samples,
                                                  std::span<const float> baseline, double max_relative_error) {
  std::vector<double> got, want;
  got.reserve(samples.size());
  want.reserve(samples.size());
  for (const ReferenceSample& s : samples) {
    const long long index = s.row * n + s.col;
    if (index < 0 || static_cast<std::size_t>(index) >= out.size())
      return fmt::format("sample ({}, {}) lies outside the {}-element output", s.row, s.col, out.size());
    got.push_back(out[static_cast<std::size_t>(index)]);
    want.push_back(s.value);
  }
  if (const double err = relative_error(got, want); !(err <= max_relative_error))
    return fmt::format("wrong result: relative error {:.3g} at {} sampled elements against the float64 "
                       "reference (bound {:.3g}){}",
                       err, samples.size(), max_relative_error,
                       std::isinf(err) ? "; NaN where the reference has numbers: elements left unwritten" : "");
  if (baseline.empty()) return std::nullopt;
  if (baseline.size() != out.size())
    return fmt::format("the output has {} elements but the first candidate's had {}", out.size(), baseline.size());
  const std::vector<double> a(out.begin(), out.end()), b(baseline.begin(), baseline.end());
  if (const double err = relative_error(a, b); !(err <= max_relative_error))
    return fmt::format("wrong result: relative error {:.3g} against the first candidate's whole output "
                       "(bound {:.3g})",
                       err, max_relative_error);
  return std::nullopt;
}

}  // namespace tilefuse::tune
