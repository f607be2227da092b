// See GemmCheck.h.
#include "runtime/check/GemmCheck.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tilefuse::gpu {
namespace {

/// Full float64 check up to this many multiply-adds; beyond, rows x columns are sampled.
constexpr long long kFullCheckMacs = 400LL * 1000 * 1000;

std::vector<long long> pick(long long extent, int count, std::mt19937_64& rng) {
  if (extent <= count) {
    std::vector<long long> all(extent);
    for (long long i = 0; i < extent; ++i) all[i] = i;
    return all;
  }
  std::vector<long long> chosen = {0, extent - 1};  // the edges: tails are where bugs live
  std::uniform_int_distribution<long long> dist(0, extent - 1);
  while (static_cast<int>(chosen.size()) < count) chosen.push_back(dist(rng));
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

/// Counts logical NaNs and touched padding (all elements, every batch).
void scan_written(const HostTensor& t, long long logical_cols, CheckResult& r) {
  const std::uint32_t poison = t.type() == compiler::DType::F32 ? 0xFFFFFFFFu : 0xFFFFu;
  for (int b = 0; b < t.batch(); ++b)
    for (long long row = 0; row < t.rows(); ++row)
      for (long long col = 0; col < t.ld(); ++col) {
        const long long i = b * t.batch_stride() + row * t.ld() + col;
        if (col < logical_cols) {
          if (std::isnan(t.at(b, row, col))) ++r.unwritten;
        } else if (t.raw(i) != poison) {
          ++r.padding_clobbered;
        }
      }
}

}  // namespace

Comparison compare_elements(std::span<const double> out, std::span<const double> ref, ElementBound bound) {
  Comparison c;
  const std::size_t count = std::min(out.size(), ref.size());
  double err2 = 0, ref2 = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double e = out[i] - ref[i];
    err2 += e * e;
    ref2 += ref[i] * ref[i];
    c.max_abs_error = std::max(c.max_abs_error, std::abs(e));
  }
  c.rms_ref = count ? std::sqrt(ref2 / static_cast<double>(count)) : 0.0;
  // A reference that is zero everywhere (relu of negatives) makes the norm
  // ratio meaningless: then the error itself must be zero.
  c.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  for (std::size_t i = 0; i < count; ++i) {
    const double allowed = bound.rtol * std::abs(ref[i]) + bound.atol * c.rms_ref;
    // Written so that a NaN on either side is a violation.
    if (!(std::abs(out[i] - ref[i]) <= allowed)) {
      if (c.violations++ == 0) c.first_violation = static_cast<long long>(i);
    }
  }
  return c;
}

Expected<CheckResult> check_outputs(const GemmProblem& p, const dsl::ResolvedProgram& program,
                                    const dsl::ParameterValues& params, const HostTensor& d,
                                    const HostTensor* aux, std::mt19937_64& rng, int sample_side) {
  CheckResult r;
  scan_written(d, p.spec.n, r);
  if (aux) scan_written(*aux, p.gated ? 2 * p.spec.n : p.spec.n, r);

  const long long macs = p.spec.m * p.spec.n * p.spec.k * p.spec.batch;
  r.sampled = macs > kFullCheckMacs;
  std::vector<double> out, ref, aux_out, aux_ref;
  for (int b = 0; b < p.spec.batch; ++b) {
    const auto rows = r.sampled ? pick(p.spec.m, sample_side, rng) : pick(p.spec.m, p.spec.m, rng);
    const auto cols = r.sampled ? pick(p.spec.n, sample_side, rng) : pick(p.spec.n, p.spec.n, rng);
    for (long long row : rows)
      for (long long col : cols) {
        auto value = p.reference(program, params, b, row, col);
        if (!value) return value.take_error();
        const double got = d.at(b, row, col);
        if (std::isnan(got)) continue;  // counted as unwritten above
        out.push_back(got);
        ref.push_back(value->out);
        if (aux) {
          aux_out.push_back(aux->at(b, row, col));
          aux_ref.push_back(value->pre);
          if (p.gated) {  // [gate | up]: the up half too
            aux_out.push_back(aux->at(b, row, p.spec.n + col));
            aux_ref.push_back(value->up);
          }
        }
        ++r.checked;
      }
  }
  const Comparison on_d = compare_elements(out, ref);
  r.rel_error = on_d.rel_error;
  r.max_abs_error = on_d.max_abs_error;
  r.element_violations = on_d.violations;
  if (aux) {
    const Comparison on_aux = compare_elements(aux_out, aux_ref);
    r.aux_rel_error = on_aux.rel_error;
    r.aux_element_violations = on_aux.violations;
  }
  return r;
}

}  // namespace tilefuse::gpu
