// See Fp8Reference.h.
#include "bench/fp8/Fp8Reference.h"

#include <algorithm>

#include "dsl/Fp8.h"

namespace tilefuse::bench {

HostScales HostScales::random(Fp8Scaling scaling, long long m, long long n, long long k, float base,
                              std::mt19937_64& rng) {
  std::uniform_real_distribution<float> factor(0.5f, 1.5f);
  auto vector = [&](long long count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = base * factor(rng);
    return v;
  };
  HostScales s;
  s.scaling = scaling;
  s.m = m, s.n = n, s.k = k;
  switch (scaling) {
    case Fp8Scaling::PerTensor:
      s.a = base * factor(rng);
      s.b = factor(rng);
      break;
    case Fp8Scaling::RowWise:
      s.row = vector(m);
      s.col = std::vector<float>(static_cast<size_t>(n));
      for (float& x : s.col) x = factor(rng);
      break;
    case Fp8Scaling::Block128:
      s.block_a = vector(s.k_blocks() * m);
      s.block_b = std::vector<float>(static_cast<size_t>(((n + 127) / 128) * s.k_blocks()));
      for (float& x : s.block_b) x = factor(rng);
      break;
  }
  return s;
}

double scaled_accumulator(const HostScales& scales, long long row, long long col, std::span<const double> a,
                          std::span<const double> w) {
  const long long k = static_cast<long long>(a.size());
  if (scales.scaling != Fp8Scaling::Block128) {
    double acc = 0;
    for (long long i = 0; i < k; ++i) acc += a[i] * w[i];
    return scales.scaling == Fp8Scaling::PerTensor ? static_cast<double>(scales.a) * scales.b * acc : acc;
  }
  double total = 0;
  for (long long kb = 0; kb * 128 < k; ++kb) {
    double partial = 0;
    for (long long i = kb * 128; i < std::min(k, (kb + 1) * 128); ++i) partial += a[i] * w[i];
    total += static_cast<double>(scales.block_a_at(kb, row)) * scales.block_b_at(col, kb) * partial;
  }
  return total;
}

double stored_value(double value, bool fp8_out, float scale_d) {
  if (!fp8_out) return value;
  const float scaled = static_cast<float>(value) * scale_d;  // the kernel's f32 multiply, then one rounding
  return dsl::fp8_to_double(dsl::float_to_fp8(scaled, dsl::Fp8Format::E4M3), dsl::Fp8Format::E4M3);
}

}  // namespace tilefuse::bench
