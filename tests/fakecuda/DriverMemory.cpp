// The fake driver: memory (host memory), streams and events (see fakecuda.h).
#include <algorithm>
#include <cstring>

#include "FakeState.h"

using namespace tilefuse::fakecuda;

extern "C" {

// ---- memory, streams, events ---------------------------------------------------------

CUresult CUDAAPI cuMemAlloc(CUdeviceptr* ptr, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!ptr || bytes == 0) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  const std::size_t rounded = (bytes + 255) / 256 * 256;
  void* memory = std::aligned_alloc(256, rounded);
  if (!memory) FAKE_DONE(CUDA_ERROR_OUT_OF_MEMORY);
  fake->allocations[reinterpret_cast<std::uintptr_t>(memory)] = bytes;
  *ptr = reinterpret_cast<CUdeviceptr>(memory);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemFree(CUdeviceptr ptr) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  auto it = fake->allocations.find(static_cast<std::uintptr_t>(ptr));
  if (it == fake->allocations.end()) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::free(reinterpret_cast<void*>(ptr));
  fake->allocations.erase(it);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(dst, bytes) || (!src && bytes)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(src, bytes) || (!dst && bytes)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t count) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(dst, count)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memset(reinterpret_cast<void*>(dst), value, count);
  FAKE_DONE(CUDA_SUCCESS);
}

// Stream order is host order in the fake: the memset happens now.
CUresult CUDAAPI cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (dst % 4 != 0 || !fake.in_allocation(dst, count * 4)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  auto* words = reinterpret_cast<unsigned int*>(dst);
  for (size_t i = 0; i < count; ++i) words[i] = value;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamCreate(CUstream* stream, unsigned int flags) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!stream || (flags & ~static_cast<unsigned>(CU_STREAM_NON_BLOCKING))) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  auto* s = new CUstream_st{current_context, current_context->legacy_clock_ms};
  fake->stream_set.insert(s);
  *stream = s;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamDestroy(CUstream stream) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!fake->stream_set.erase(stream)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  delete stream;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamSynchronize(CUstream stream) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD && !fake->stream_set.count(stream))
    FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventCreate(CUevent* event, unsigned int) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!event) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  auto* e = new CUevent_st{};
  fake->event_set.insert(e);
  *event = e;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventDestroy(CUevent event) {
  Locked fake;
  if (!fake->event_set.erase(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  delete event;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventRecord(CUevent event, CUstream stream) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake->event_set.count(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  const bool legacy = !stream || stream == CU_STREAM_LEGACY || stream == CU_STREAM_PER_THREAD;
  if (!legacy && !fake->stream_set.count(stream)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  event->time_ms = legacy ? current_context->legacy_clock_ms : stream->clock_ms;
  event->recorded = true;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventSynchronize(CUevent event) {
  Locked fake;
  if (!fake->event_set.count(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  Locked fake;
  if (!ms) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!fake->event_set.count(start) || !fake->event_set.count(end)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  if (!start->recorded || !end->recorded) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  *ms = static_cast<float>(end->time_ms - start->time_ms);
  FAKE_DONE(CUDA_SUCCESS);
}

}  // extern "C"
