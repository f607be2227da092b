// See SampledCheck.h.
#include "SampledCheck.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "runtime/check/HostHalf.h"

namespace tilefuse::bench {
namespace {

constexpr int kSampleSide = 48;

std::vector<long long> sample(long long extent, std::mt19937_64& rng) {
  std::vector<long long> picked = {0, extent - 1};
  std::uniform_int_distribution<long long> dist(0, extent - 1);
  for (int i = 0; i < kSampleSide && i < extent; ++i) picked.push_back(dist(rng));
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  return picked;
}

/// Row `row` (`width` 16-bit elements at row * ld) as doubles.
Expected<std::vector<double>> read_row(const gpu::DeviceBuffer& buffer, long long row, long long ld, long long width,
                                       DType type) {
  std::vector<std::uint16_t> bits(width);
  if (auto ok = buffer.download(bits.data(), width * 2, static_cast<std::size_t>(row * ld * 2)); !ok)
    return ok.take_error();
  std::vector<double> values(width);
  for (long long i = 0; i < width; ++i) values[i] = gpu::half_bits_to_float(bits[i], type);
  return values;
}

}  // namespace

Expected<SampleResult> check_sample(const BenchOperands& op, const gpu::DeviceBuffer& out, long long out_ld,
                                    const dsl::ResolvedProgram* program, const dsl::ParameterValues& params,
                                    bool gated, std::mt19937_64& rng) {
  const auto rows = sample(op.m, rng);
  const auto cols = sample(op.n, rng);
  std::vector<std::vector<double>> gate_w, up_w;
  for (long long c : cols) {
    auto g = read_row(*op.w, c, op.k, op.k, op.type);
    if (!g) return g.take_error();
    gate_w.push_back(std::move(*g));
    if (gated) {
      auto u = read_row(*op.w, op.n + c, op.k, op.k, op.type);
      if (!u) return u.take_error();
      up_w.push_back(std::move(*u));
    }
  }
  SampleResult result;
  double err2 = 0, ref2 = 0;
  for (long long r : rows) {
    auto a = read_row(*op.a, r, op.k, op.k, op.type);
    if (!a) return a.take_error();
    auto o = read_row(out, r, out_ld, op.n, op.type);
    if (!o) return o.take_error();
    for (size_t j = 0; j < cols.size(); ++j) {
      double acc = 0, up = 0;
      for (long long k = 0; k < op.k; ++k) {
        acc += (*a)[k] * gate_w[j][k];
        if (gated) up += (*a)[k] * up_w[j][k];
      }
      double ref = acc;
      if (program) {
        dsl::InputValues in;
        in.x = acc;
        in.gate = acc;
        in.up = up;
        auto value = dsl::evaluate(*program, in, params);
        if (!value) return value.take_error();
        ref = *value;
      }
      const double got = (*o)[cols[j]];
      if (std::isnan(got)) {
        ++result.nan_count;
        continue;
      }
      err2 += (got - ref) * (got - ref);
      ref2 += ref * ref;
      ++result.checked;
    }
  }
  result.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  return result;
}

}  // namespace tilefuse::bench
