// How the tuner measures one candidate. The CUDA-event timer
// (runtime/api/GpuTimer.h: it launches through the public API, so it sits
// above the tuner) runs it on the GPU; the simulated timer
// (SimulatedTimer.h) is a deterministic function of the config for tests and
// demos on machines with no GPU.
#pragma once

#include <string>

#include "compiler/Pipeline.h"
#include "runtime/tune/Candidate.h"
#include "runtime/tune/DeviceKey.h"
#include "runtime/tune/SearchSpace.h"

namespace tilefuse::tune {

struct TimingJob {
  const compiler::KernelSpec* spec = nullptr;  ///< without a tile; the candidate sets it
  ProblemShape shape;
  Candidate candidate;
};

struct Timing {
  double median_ms = 0;
  int repetitions = 0;
};

class KernelTimer {
 public:
  virtual ~KernelTimer() = default;
  /// Whose timings these are (selects the tuning database file).
  virtual Expected<DeviceIdentity> device() = 0;
  /// NoDevice (with the driver's reason) when nothing can be timed; checked
  /// once before tuning so that a missing GPU is one error, not N failures.
  virtual Expected<void> ready() = 0;
  /// The median time of one launch of the candidate's kernel (already
  /// compiled through the kernel cache). An error here is the candidate's
  /// failure (launch error, wrong result): it scores +inf, tuning goes on.
  virtual Expected<Timing> time(const TimingJob& job) = 0;
  /// "cuda-events" | "simulated": stored with every record.
  virtual std::string name() const = 0;
};

}  // namespace tilefuse::tune
