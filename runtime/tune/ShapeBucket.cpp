// See ShapeBucket.h.
#include "runtime/tune/ShapeBucket.h"

#include <bit>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace tilefuse::tune {
namespace {

/// Distance between powers of two, in doublings.
int log2_distance(long long a, long long b) {
  const int la = std::bit_width(static_cast<unsigned long long>(a));
  const int lb = std::bit_width(static_cast<unsigned long long>(b));
  return std::abs(la - lb);
}

}  // namespace

ShapeBucket bucket_for(const ProblemShape& shape) {
  const auto m = static_cast<unsigned long long>(shape.m < 1 ? 1 : shape.m);
  ShapeBucket bucket{static_cast<long long>(std::bit_ceil(m)), shape.n, shape.k};
  if (shape.grouped()) {
    bucket.experts = shape.experts;
    bucket.layout = shape.layout;
  }
  return bucket;
}

std::string to_string(const ShapeBucket& bucket) {
  const std::string plain = fmt::format("m{}_n{}_k{}", bucket.m_max, bucket.n, bucket.k);
  if (bucket.layout == GroupLayout::None) return plain;
  return fmt::format("{}_e{}_{}", to_string(bucket.layout), bucket.experts, plain);
}

Expected<ShapeBucket> parse_bucket(const std::string& text) {
  const auto bad = [&text]() {
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("shape bucket '{}' is not m<power of two>_n<N>_k<K> (e.g. "
                                  "m128_n4096_k4096), optionally after <contiguous|masked>_e<experts>_ "
                                  "(e.g. contiguous_e128_m1024_n768_k2048)",
                                  text));
  };
  ShapeBucket bucket;
  std::string plain = text;
  // A grouped bucket: "<layout>_e<E>_" before the plain form.
  if (const std::size_t underscore = text.find('_');
      underscore != std::string::npos && (text.starts_with("contiguous_") || text.starts_with("masked_"))) {
    auto layout = parse_group_layout(text.substr(0, underscore));
    if (!layout) return bad();
    int consumed = 0;
    if (std::sscanf(text.c_str() + underscore + 1, "e%d_%n", &bucket.experts, &consumed) != 1 ||
        consumed == 0 || bucket.experts < 1)
      return bad();
    bucket.layout = *layout;
    plain = text.substr(underscore + 1 + static_cast<std::size_t>(consumed));
  }
  int consumed = 0;
  if (std::sscanf(plain.c_str(), "m%lld_n%lld_k%lld%n", &bucket.m_max, &bucket.n, &bucket.k,
                  &consumed) != 3 ||
      consumed != static_cast<int>(plain.size()) || bucket.m_max < 1 || bucket.n < 1 ||
      bucket.k < 1 || !std::has_single_bit(static_cast<unsigned long long>(bucket.m_max)))
    return bad();
  return bucket;
}

std::optional<ShapeBucket> nearest_bucket(const ProblemShape& shape,
                                          std::span<const ShapeBucket> recorded) {
  const ShapeBucket want = bucket_for(shape);
  std::optional<ShapeBucket> best;
  for (const ShapeBucket& b : recorded) {
    if (b.n != want.n || b.k != want.k || b.experts != want.experts || b.layout != want.layout) continue;
    if (b == want) return b;
    if (!best) {
      best = b;
      continue;
    }
    const int d = log2_distance(b.m_max, want.m_max), best_d = log2_distance(best->m_max, want.m_max);
    if (d < best_d || (d == best_d && b.m_max > best->m_max)) best = b;
  }
  return best;
}

}  // namespace tilefuse::tune
