// Shapes that share tuning records. M (the token count, which varies from
// call to call) is rounded UP to a power of two; N and K (the weight matrix,
// fixed per layer) are exact. So M = 100 and M = 128 share a record, M = 129
// does not, and a layer of another width never borrows a config.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "runtime/tune/SearchSpace.h"

namespace tilefuse::tune {

struct ShapeBucket {
  long long m_max = 0;  ///< power of two >= every M in the bucket
  long long n = 0, k = 0;
  bool operator==(const ShapeBucket&) const = default;
};

ShapeBucket bucket_for(const ProblemShape& shape);
/// "m128_n4096_k4096".
std::string to_string(const ShapeBucket& bucket);
/// Inverse of to_string; InvalidInput otherwise.
Expected<ShapeBucket> parse_bucket(const std::string& text);

/// Among `recorded` buckets, the one whose records best fit `shape`: the
/// exact bucket, else the one with the same N and K and the nearest m_max
/// (ties go to the larger, whose blocks cover the shape), else nullopt.
std::optional<ShapeBucket> nearest_bucket(const ProblemShape& shape,
                                          std::span<const ShapeBucket> recorded);

}  // namespace tilefuse::tune
