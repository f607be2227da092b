// The CUDA-event timer: launches each candidate through the public API
// (tilefuse::Runtime / MatmulOp with the tile forced, so the kernel comes
// from the same cache the tuner compiled into) on random inputs, and reports
// the median of repeated launches:
//
//   warm-up launches, then per repetition: overwrite an L2-sized buffer
//   (flushes the inputs out of L2) → event → launch → event; repeat until the
//   median of the last half agrees with the median of all within 1 % (at least
//   min_repetitions, at most max_repetitions or max_ms of GPU time).
//
// The output of each candidate is checked once, after the warm-up launches
// (D and aux poisoned with NaN bytes before them), against a float64 host
// reference at 64 sampled elements and against the whole output of the first
// candidate that passed for the same problem (‖out − ref‖/‖ref‖ within 2e-2
// each: bf16 GEMMs are within 1e-2 of the exact result); a mismatch, or an
// element left unwritten, fails the candidate (runtime/tune/OutputCheck.h).
//
// A grouped problem (ProblemShape::experts, layout) gets one weight matrix
// (and bias, column inputs) per expert and balanced routing on the device:
// contiguous offsets e·T/E, or every masked group full, so that every element
// of D is written and checked; row and column inputs are random f32 vectors.
#pragma once

#include <memory>

#include "runtime/tune/KernelTimer.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::tune {

struct GpuTimerOptions {
  /// Launches go through this runtime's kernel cache, which must be the one
  /// the candidates were compiled into (then every launch is a cache hit);
  /// unset: a Runtime on the process-wide cache.
  std::optional<Runtime> runtime;
  int device_ordinal = 0;
  int warmup = 3;
  int min_repetitions = 10;
  int max_repetitions = 200;
  double max_ms = 500;             ///< GPU time spent timing one candidate, at most
  double stable_relative = 0.01;   ///< median agreement that ends the repetitions
  double max_relative_error = 2e-2;
  float parameter_value = 0.5f;    ///< every runtime parameter (timing does not depend on it)
};

class GpuTimer final : public KernelTimer {
 public:
  explicit GpuTimer(GpuTimerOptions options = {});
  ~GpuTimer() override;
  Expected<DeviceIdentity> device() override;
  Expected<void> ready() override;
  Expected<Timing> time(const TimingJob& job) override;
  std::string name() const override { return "cuda-events"; }

 private:
  struct State;
  GpuTimerOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace tilefuse::tune
