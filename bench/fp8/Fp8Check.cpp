// See Fp8Check.h.
#include "bench/fp8/Fp8Check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dsl/Fp8.h"
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

/// Row `row` of an e4m3 matrix with `width` columns, decoded.
Expected<std::vector<double>> read_e4m3_row(const gpu::DeviceBuffer& buffer, long long row, long long width) {
  std::vector<std::uint8_t> bits(width);
  if (auto ok = buffer.download(bits.data(), width, static_cast<std::size_t>(row * width)); !ok)
    return ok.take_error();
  std::vector<double> values(width);
  for (long long i = 0; i < width; ++i) values[i] = dsl::fp8_to_double(bits[i], dsl::Fp8Format::E4M3);
  return values;
}

Expected<std::vector<double>> read_out_row(const gpu::DeviceBuffer& out, long long row, long long n, bool fp8) {
  if (fp8) return read_e4m3_row(out, row, n);
  std::vector<std::uint16_t> bits(n);
  if (auto ok = out.download(bits.data(), n * 2, static_cast<std::size_t>(row * n * 2)); !ok) return ok.take_error();
  std::vector<double> values(n);
  for (long long i = 0; i < n; ++i) values[i] = gpu::half_bits_to_float(bits[i], DType::BF16);
  return values;
}

}  // namespace

Expected<Fp8SampleResult> check_fp8_sample(const Fp8Operands& op, const gpu::DeviceBuffer& out, bool fp8_out,
                                           float scale_d, const dsl::ResolvedProgram* program, std::mt19937_64& rng) {
  const auto rows = sample(op.m, rng);
  const auto cols = sample(op.n, rng);
  std::vector<std::vector<double>> w_rows;
  for (long long c : cols) {
    auto w = read_e4m3_row(*op.w, c, op.k);
    if (!w) return w.take_error();
    w_rows.push_back(std::move(*w));
  }
  const HostScales& scales = *op.scales;
  Fp8SampleResult result;
  double err2 = 0, ref2 = 0;
  for (long long r : rows) {
    auto a = read_e4m3_row(*op.a, r, op.k);
    if (!a) return a.take_error();
    auto o = read_out_row(out, r, op.n, fp8_out);
    if (!o) return o.take_error();
    for (size_t j = 0; j < cols.size(); ++j) {
      const double acc = scaled_accumulator(scales, r, cols[j], *a, w_rows[j]);
      double value = acc;
      if (program) {
        dsl::InputValues in;
        in.x = acc;
        if (scales.scaling == Fp8Scaling::RowWise) {
          in.rows["sa"] = scales.row[r];
          in.cols["sb"] = scales.col[cols[j]];
        }
        auto v = dsl::evaluate(*program, in, {});
        if (!v) return v.take_error();
        value = *v;
      } else if (scales.scaling == Fp8Scaling::RowWise) {
        value = acc * scales.row[r] * scales.col[cols[j]];  // the plain row-wise scaled product
      }
      result.max_abs_ref = std::max(result.max_abs_ref, std::abs(value));
      const double ref = stored_value(value, fp8_out, scale_d);
      const double got = (*o)[cols[j]];
      if (std::isnan(got)) {
        ++result.sample.nan_count;
        continue;
      }
      err2 += (got - ref) * (got - ref);
      ref2 += ref * ref;
      ++result.sample.checked;
    }
  }
  result.sample.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  return result;
}

}  // namespace tilefuse::bench
