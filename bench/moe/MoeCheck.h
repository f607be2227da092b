// One case of the grouped (MoE) benchmark on the device, and the float64
// check of what an implementation wrote for it (bench/moe/moe_bench.cpp):
// sampled elements of h (gate_up) or y (down), each row's expert found from
// the offsets, its weights and input row read back from the device.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "MoeWorkload.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

inline double bf16_value(std::uint16_t bits) {
  const std::uint32_t word = static_cast<std::uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &word, 4);
  return f;
}

/// One benchmark case on the device: A [T, d], W_gate/W_up [E, hidden, d],
/// W_down [E, d, hidden] (nn.Linear weights), offsets [E+1], route [T], h
/// [T, hidden], y [T, d].
struct Case {
  MoeModel model;
  long long tokens = 0, rows = 0;
  Routing routing = Routing::Balanced;
  std::vector<int> counts, offsets;
  std::vector<float> route;
  gpu::DeviceBuffer a, w_gate, w_up, w_down, d_offsets, d_route, h, y;
};

/// ‖out − ref‖/‖ref‖ over sampled elements of h (gate/up) or y (down), the
/// reference in float64 from the rows read back; NaN counts as wrong (+inf).
struct Checker {
  std::mt19937_64& rng;

  Expected<double> gate_up(const Case& c) const {
    return sampled(c, c.model.hidden, c.model.d_model, [&](long long, long long col, int e, const auto& row) -> Expected<double> {
      std::vector<std::uint16_t> wg(c.model.d_model), wu(c.model.d_model);
      const std::size_t offset = ((static_cast<std::size_t>(e) * c.model.hidden) + col) * c.model.d_model * 2;
      if (auto ok = c.w_gate.download(wg.data(), wg.size() * 2, offset); !ok) return ok.take_error();
      if (auto ok = c.w_up.download(wu.data(), wu.size() * 2, offset); !ok) return ok.take_error();
      double g = 0, u = 0;
      for (long long i = 0; i < c.model.d_model; ++i) g += row[i] * bf16_value(wg[i]), u += row[i] * bf16_value(wu[i]);
      return g / (1.0 + std::exp(-g)) * u;
    }, c.a, c.h);
  }

  Expected<double> down(const Case& c) const {
    return sampled(c, c.model.d_model, c.model.hidden, [&](long long r, long long col, int e, const auto& row) -> Expected<double> {
      std::vector<std::uint16_t> w(c.model.hidden);
      const std::size_t offset = ((static_cast<std::size_t>(e) * c.model.d_model) + col) * c.model.hidden * 2;
      if (auto ok = c.w_down.download(w.data(), w.size() * 2, offset); !ok) return ok.take_error();
      double acc = 0;
      for (long long i = 0; i < c.model.hidden; ++i) acc += row[i] * bf16_value(w[i]);
      return acc * c.route[static_cast<std::size_t>(r)];
    }, c.h, c.y);
  }

  /// The dense ceiling's output [T, n] = in [T, k] · W[0:n]ᵀ (W's first n rows of k).
  Expected<double> dense(const Case& c, const gpu::DeviceBuffer& in, const gpu::DeviceBuffer& w,
                         const gpu::DeviceBuffer& out, long long n, long long k) const {
    return sampled(c, n, k, [&](long long, long long col, int, const auto& row) -> Expected<double> {
      std::vector<std::uint16_t> w_row(k);
      if (auto ok = w.download(w_row.data(), w_row.size() * 2, static_cast<std::size_t>(col * k * 2)); !ok)
        return ok.take_error();
      double acc = 0;
      for (long long i = 0; i < k; ++i) acc += row[i] * bf16_value(w_row[i]);
      return acc;
    }, in, out);
  }

  /// 64 sampled (row, column) elements of `out` ([T, n]); the first and last
  /// rows of the largest group included (tails are where tile bugs show).
  template <typename Reference>
  Expected<double> sampled(const Case& c, long long n, long long k, const Reference& reference,
                           const gpu::DeviceBuffer& in, const gpu::DeviceBuffer& out) const {
    std::vector<long long> rows;
    const auto largest = std::max_element(c.counts.begin(), c.counts.end()) - c.counts.begin();
    rows.push_back(c.offsets[largest]);
    rows.push_back(c.offsets[largest + 1] - 1);
    while (rows.size() < 64) rows.push_back(static_cast<long long>(rng() % c.rows));
    std::vector<std::uint16_t> in_row(k);
    std::vector<double> row(k);
    double err2 = 0, ref2 = 0;
    for (long long r : rows) {
      const int e = static_cast<int>(std::upper_bound(c.offsets.begin(), c.offsets.end(), r) - c.offsets.begin()) - 1;
      if (auto ok = in.download(in_row.data(), k * 2, static_cast<std::size_t>(r * k * 2)); !ok) return ok.take_error();
      for (long long i = 0; i < k; ++i) row[i] = bf16_value(in_row[i]);
      const long long col = static_cast<long long>(rng() % n);
      auto ref = reference(r, col, e, row);
      if (!ref) return ref.take_error();
      std::uint16_t bits = 0;
      if (auto ok = out.download(&bits, 2, static_cast<std::size_t>((r * n + col) * 2)); !ok) return ok.take_error();
      const double got = bf16_value(bits);
      if (!std::isfinite(got)) return std::numeric_limits<double>::infinity();
      err2 += (got - *ref) * (got - *ref);
      ref2 += *ref * *ref;
    }
    return std::sqrt(err2 / std::max(ref2, 1e-300));
  }
};

}  // namespace tilefuse::bench
