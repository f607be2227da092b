// Shapes that share tuning records. M (the token count, which varies from
// call to call) is rounded UP to a power of two; N and K (the weight matrix,
// fixed per layer) are exact. So M = 100 and M = 128 share a record, M = 129
// does not, and a layer of another width never borrows a config.
//
// A grouped (mixture-of-experts) problem's bucket also holds its expert
// count and layout, exact like N and K (a config tuned for 8 experts of 512
// rows says nothing about 128 experts of 32): its M is the token-count T
// (Contiguous) or the rows per expert M_max (Masked), rounded up likewise.
// Written "contiguous_e128_m1024_n768_k2048"; plain buckets keep the
// "m128_n4096_k4096" form, so databases written before grouped ops load.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "runtime/tune/SearchSpace.h"

namespace tilefuse::tune {

struct ShapeBucket {
  long long m_max = 0;  ///< power of two >= every M in the bucket
  long long n = 0, k = 0;
  int experts = 0;  ///< grouped only (0: a plain GEMM)
  GroupLayout layout = GroupLayout::None;
  bool operator==(const ShapeBucket&) const = default;
};

ShapeBucket bucket_for(const ProblemShape& shape);
/// "m128_n4096_k4096"; grouped: "<layout>_e<E>_m..._n..._k...".
std::string to_string(const ShapeBucket& bucket);
/// Inverse of to_string; InvalidInput otherwise.
Expected<ShapeBucket> parse_bucket(const std::string& text);

/// Among `recorded` buckets, the one whose records best fit `shape`: the
/// exact bucket, else the one with the same N and K (and the same experts and
/// layout) and the nearest m_max
/// (ties go to the larger, whose blocks cover the shape), else nullopt.
std::optional<ShapeBucket> nearest_bucket(const ProblemShape& shape,
                                          std::span<const ShapeBucket> recorded);

}  // namespace tilefuse::tune
