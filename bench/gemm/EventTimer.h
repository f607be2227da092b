// Times a launch sequence on a stream with CUDA events: warm-up runs, then
// each timed repetition starts with a cold L2 (a 256 MiB buffer is written
// first) and the median is reported.
#pragma once

#include <cuda.h>

#include <functional>

#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

struct TimingOptions {
  int warmup = 3;
  int repetitions = 10;
};

class EventTimer {
 public:
  static Expected<EventTimer> create(CUstream stream);
  /// Median milliseconds of `launch` (which enqueues work on the stream).
  Expected<double> median_ms(const std::function<Expected<void>()>& launch, const TimingOptions& options);

 private:
  CUstream stream_ = nullptr;
  gpu::DeviceBuffer flush_;
};

}  // namespace tilefuse::bench
