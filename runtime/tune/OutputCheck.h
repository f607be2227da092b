// Whether a tuning candidate's output is right, decided on the host from the
// output's values alone (no GPU in here, so it is unit-tested on the CPU):
//
//  - against a float64 reference at a few sampled positions (the corners,
//    then spread pseudo-random ones), which the caller computes on the host:
//    every candidate, the first one included, must agree with it; and
//  - against the first accepted candidate's whole output, when there is one
//    (catches a wrong element the samples miss).
//
// The caller poisons the output (0xFF bytes: NaN in bf16, f16 and f32)
// before the checked launch, so a candidate that writes nothing leaves NaN
// where the reference has numbers and fails here.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilefuse/error.hpp"

namespace tilefuse::tune {

struct ReferenceSample {
  long long row = 0, col = 0;
  double value = 0;  ///< the float64 reference of element (row, col)
};

/// The float64 reference of one output element (the caller's host GEMM and epilogue).
using ReferenceSampler = std::function<Expected<double>(long long row, long long col)>;

/// `count` distinct positions of an m x n output (all of them when it has no
/// more): the four corners first (tails are where tile bugs show), then
/// positions from a fixed-seed generator, so every candidate is checked at
/// the same places.
std::vector<ReferenceSample> sample_positions(long long m, long long n, int count);

/// sample_positions with each value filled by `reference`.
Expected<std::vector<ReferenceSample>> reference_samples(long long m, long long n, int count,
                                                         const ReferenceSampler& reference);

/// ‖out − ref‖ / ‖ref‖ over the pairs finite in both; +inf when one is finite
/// and the other is not (NaN left by an element nobody wrote).
double relative_error(std::span<const double> out, std::span<const double> ref);

/// Why `out` (m x n, row-major, decoded to float) is wrong, or nullopt:
/// checked against `samples` and, when not empty, against `baseline` (the
/// first accepted candidate's output, same shape), each within
/// `max_relative_error`.
std::optional<std::string> check_candidate_output(std::span<const float> out, long long n,
                                                  std::span<const ReferenceSample> samples,
                                                  std::span<const float> baseline, double max_relative_error);

}  // namespace tilefuse::tune
