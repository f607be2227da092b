// See EventTimer.h.
#include "EventTimer.h"

#include <algorithm>
#include <vector>

#include "runtime/Driver.h"

namespace tilefuse::bench {
namespace {

constexpr std::size_t kFlushBytes = 256ull << 20;  // larger than any L2 (H100: 50 MB)

}  // namespace

Expected<EventTimer> EventTimer::create(CUstream stream) {
  EventTimer timer;
  timer.stream_ = stream;
  auto flush = gpu::DeviceBuffer::allocate(kFlushBytes);
  if (!flush) return flush.take_error();
  timer.flush_ = std::move(*flush);
  return timer;
}

Expected<double> EventTimer::median_ms(const std::function<Expected<void>()>& launch,
                                       const TimingOptions& options) {
  auto api_or = runtime::driver();
  if (!api_or) return api_or.take_error();
  const runtime::DriverApi& api = **api_or;
  for (int i = 0; i < options.warmup; ++i)
    if (auto ok = launch(); !ok) return ok.take_error();

  const int reps = std::max(1, options.repetitions);
  std::vector<CUevent> events(2 * reps, nullptr);
  auto destroy = [&] {
    for (CUevent e : events)
      if (e) api.cuEventDestroy(e);
  };
  for (CUevent& e : events)
    if (CUresult r = api.cuEventCreate(&e, CU_EVENT_DEFAULT); r != CUDA_SUCCESS) {
      destroy();
      return runtime::driver_error(api, r, "cuEventCreate");
    }
  for (int i = 0; i < reps; ++i) {
    // The legacy-stream memset orders before the (blocking) timing stream's next work.
    if (auto ok = flush_.fill(static_cast<unsigned char>(i)); !ok) {
      destroy();
      return ok.take_error();
    }
    api.cuEventRecord(events[2 * i], stream_);
    if (auto ok = launch(); !ok) {
      destroy();
      return ok.take_error();
    }
    api.cuEventRecord(events[2 * i + 1], stream_);
  }
  if (CUresult r = api.cuStreamSynchronize(stream_); r != CUDA_SUCCESS) {
    destroy();
    return runtime::driver_error(api, r, "cuStreamSynchronize after timing");
  }
  std::vector<float> ms(reps);
  for (int i = 0; i < reps; ++i) api.cuEventElapsedTime(&ms[i], events[2 * i], events[2 * i + 1]);
  destroy();
  std::nth_element(ms.begin(), ms.begin() + reps / 2, ms.end());
  return static_cast<double>(ms[reps / 2]);
}

}  // namespace tilefuse::bench
