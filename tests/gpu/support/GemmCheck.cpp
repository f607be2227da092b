// See GemmCheck.h.
#include "GemmCheck.h"

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

Expected<CheckResult> check_outputs(const GemmProblem& p, const dsl::ResolvedProgram& program,
                                    const dsl::ParameterValues& params, const HostTensor& d,
                                    const HostTensor* aux, std::mt19937_64& rng, int sample_side) {
  CheckResult r;
  scan_written(d, p.spec.n, r);
  if (aux) scan_written(*aux, p.spec.n, r);

  const long long macs = p.spec.m * p.spec.n * p.spec.k * p.spec.batch;
  r.sampled = macs > kFullCheckMacs;
  double err2 = 0, ref2 = 0, aux_err2 = 0, aux_ref2 = 0;
  for (int b = 0; b < p.spec.batch; ++b) {
    const auto rows = r.sampled ? pick(p.spec.m, sample_side, rng) : pick(p.spec.m, p.spec.m, rng);
    const auto cols = r.sampled ? pick(p.spec.n, sample_side, rng) : pick(p.spec.n, p.spec.n, rng);
    for (long long row : rows)
      for (long long col : cols) {
        auto ref = p.reference(program, params, b, row, col);
        if (!ref) return ref.take_error();
        const double out = d.at(b, row, col);
        if (std::isnan(out)) continue;  // counted as unwritten above
        const double e = out - ref->out;
        err2 += e * e;
        ref2 += ref->out * ref->out;
        r.max_abs_error = std::max(r.max_abs_error, std::abs(e));
        if (aux) {
          const double ae = aux->at(b, row, col) - ref->pre;
          aux_err2 += ae * ae;
          aux_ref2 += ref->pre * ref->pre;
        }
        ++r.checked;
      }
  }
  // A reference that is zero everywhere (relu of negatives) makes the norm
  // ratio meaningless: then the error itself must be zero.
  r.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  if (aux) r.aux_rel_error = aux_ref2 > 0 ? std::sqrt(aux_err2 / aux_ref2) : std::sqrt(aux_err2);
  return r;
}

}  // namespace tilefuse::gpu
