// Median, minimum and maximum of repeated timings (the benchmark reports
// medians: one slow repetition on a shared machine must not move the result).
#pragma once

#include <algorithm>
#include <vector>

namespace tilefuse::bench {

struct Summary {
  double median = 0, min = 0, max = 0;
};

/// Summary of `samples`; all zeros for an empty list. The median of an even
/// count is the mean of the two middle values.
inline Summary summarize(std::vector<double> samples) {
  if (samples.empty()) return {};
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  const double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return {median, samples.front(), samples.back()};
}

}  // namespace tilefuse::bench
