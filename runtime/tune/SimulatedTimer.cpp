// See SimulatedTimer.h.
#include "runtime/tune/SimulatedTimer.h"

#include <algorithm>
#include <cmath>

namespace tilefuse::tune {
namespace {

/// An H100-like part: 132 SMs, ~800 dense bf16 TFLOP/s reachable.
constexpr double kSms = 132;
constexpr double kPeakFlopsPerMs = 800e12 / 1e3;

long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

}  // namespace

void SimulatedTimer::inject_failure(const std::string& config, std::string reason) {
  failures_[config] = std::move(reason);
}

double SimulatedTimer::simulated_ms(const Candidate& candidate, const ProblemShape& shape) {
  const auto& t = candidate.tile;
  // A grouped problem (balanced routing) tiles each group's rows: E x the
  // blocks of one group, so a block taller than a group's rows is wasted.
  const long long groups = shape.grouped() ? shape.experts : 1;
  const double blocks =
      static_cast<double>(groups * ceil_div(shape.rows_per_group(), t.block_m) * ceil_div(shape.n, t.block_n));
  // Wave quantization: a partial last wave costs a whole wave.
  const double waves = std::ceil(blocks / kSms);
  const double block_flops = 2.0 * t.block_m * t.block_n * static_cast<double>(shape.k);
  // Larger blocks reuse operands better; deeper pipelines hide latency up to 4 stages;
  // 64-deep K tiles halve the barriers; 8 warps hide more latency than 4.
  const double intensity = static_cast<double>(t.block_m) * t.block_n / (t.block_m + t.block_n);
  double efficiency = std::min(1.0, intensity / 96.0);
  efficiency *= 1.0 - 0.08 * std::abs(t.stages - 4);
  efficiency *= t.block_k == 64 ? 1.0 : 0.93;
  efficiency *= t.warps() == 8 ? 1.0 : 0.95;
  efficiency *= (t.warp_m == 64 && t.warp_n == 64) ? 1.0 : 0.9;
  const double wave_ms = block_flops * kSms / (kPeakFlopsPerMs * efficiency);
  constexpr double kLaunchMs = 0.004;
  return kLaunchMs + waves * wave_ms;
}

Expected<Timing> SimulatedTimer::time(const TimingJob& job) {
  ++timed_;
  if (auto it = failures_.find(to_string(job.candidate)); it != failures_.end())
    return make_error(ErrorCode::DriverError, it->second);
  return Timing{simulated_ms(job.candidate, job.shape), 1};
}

}  // namespace tilefuse::tune
