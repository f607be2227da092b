// A timer with no GPU: the "time" of a candidate is a deterministic function
// of its config and the shape (a roofline-like model with per-config
// penalties), and chosen configs can be made to fail. For tests and for
// `tilefuse tune --simulate` demos; its records go to their own database file
// (device "simulated") and never mix with real measurements.
#pragma once

#include <map>
#include <string>

#include "runtime/tune/KernelTimer.h"

namespace tilefuse::tune {

class SimulatedTimer final : public KernelTimer {
 public:
  /// Makes the timing of `config` (its to_string name) fail with `reason`.
  void inject_failure(const std::string& config, std::string reason);
  /// How many candidates were timed so far (tests check what was re-timed).
  int timed() const { return timed_; }

  Expected<DeviceIdentity> device() override { return simulated_device_identity(); }
  Expected<void> ready() override { return {}; }
  Expected<Timing> time(const TimingJob& job) override;
  std::string name() const override { return "simulated"; }

  /// The model itself: milliseconds for `candidate` on `shape` (grouped:
  /// every expert's blocks with balanced routing).
  static double simulated_ms(const Candidate& candidate, const ProblemShape& shape);

 private:
  std::map<std::string, std::string> failures_;
  int timed_ = 0;
};

}  // namespace tilefuse::tune
