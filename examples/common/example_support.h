// What the examples that run on a GPU share: bf16 on the host, the CUDA
// runtime calls they make (memory, streams, graphs) with their errors
// printed, and a float reference GEMM. Examples only: tilefuse itself needs
// none of this (it takes your device pointers and your stream).
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <tilefuse/tilefuse.hpp>

namespace example {

/// bf16 = the upper 16 bits of a float, rounded to nearest even (NaN kept).
inline uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}
inline float from_bf16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline float round_bf16(float f) { return from_bf16(to_bf16(f)); }

/// `count` values uniform in [-scale, scale), already representable in bf16.
inline std::vector<float> random_bf16_values(size_t count, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(count);
  for (float& x : v) x = round_bf16(dist(rng));
  return v;
}

/// out[m, n] = Σ_k a[m, k]·w[n, k]: A row-major M x K, W in nn.Linear layout
/// (N x K), accumulated in double like the tensor cores' fp32 accumulators do
/// closely enough for a 1e-2 comparison.
inline std::vector<float> linear(const std::vector<float>& a, const std::vector<float>& w, int m, int n, int k) {
  std::vector<float> out(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int p = 0; p < k; ++p) sum += double(a[size_t(i) * k + p]) * w[size_t(j) * k + p];
      out[size_t(i) * n + j] = static_cast<float>(sum);
    }
  return out;
}

/// ‖out − ref‖ / ‖ref‖ (Frobenius); NaN anywhere makes it NaN.
inline double relative_error(const std::vector<float>& out, const std::vector<float>& ref) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff += (double(out[i]) - ref[i]) * (double(out[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return std::sqrt(diff / norm);
}

/// Prints a tilefuse error (what, where, how to fix; and the compiler log if any).
inline int report(const tilefuse::Error& e) {
  std::fprintf(stderr, "error (%s): %s\n%s\n", tilefuse::to_string(e.code), e.message.c_str(), e.detail.c_str());
  return 1;
}

inline void print_kernel(const char* what, const tilefuse::KernelInfo& info) {
  const auto mma = info.ptx_instructions.find("mma_sync");
  std::printf("  %-28s %s tile %s: %d registers, %d spill bytes, %d B shared, %d mma.sync, %s\n", what,
              info.arch.c_str(), tilefuse::to_string(info.tile).c_str(), info.registers,
              info.spill_bytes, info.shared_bytes, mma == info.ptx_instructions.end() ? 0 : mma->second,
              info.cache_hit ? "from the cache" : "compiled now");
}

/// Empty when a CUDA device can be used; otherwise why not (no driver, no GPU).
inline std::string why_no_gpu() {
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
    return std::string(e == cudaErrorInsufficientDriver ? "no CUDA driver, or one older than this CUDA runtime; "
                                                        : "") +
           "cudaGetDeviceCount: " + cudaGetErrorName(e) + ", " + cudaGetErrorString(e);
  if (count == 0) return "the CUDA runtime reports no device";
  return {};
}

/// False (after printing what failed) unless `e` is cudaSuccess.
inline bool cuda_ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "error: %s: %s (%s)\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  return false;
}

/// Device memory holding bf16 values; freed with the object.
class DeviceBf16 {
 public:
  DeviceBf16() = default;
  DeviceBf16(const DeviceBf16&) = delete;
  DeviceBf16& operator=(const DeviceBf16&) = delete;
  ~DeviceBf16() { cudaFree(data_); }

  bool allocate(size_t count) {
    count_ = count;
    return cuda_ok(cudaMalloc(&data_, count * 2), "cudaMalloc");
  }
  bool upload(const std::vector<float>& values) {
    std::vector<uint16_t> bits(values.size());
    for (size_t i = 0; i < values.size(); ++i) bits[i] = to_bf16(values[i]);
    return allocate(values.size()) && cuda_ok(cudaMemcpy(data_, bits.data(), bits.size() * 2, cudaMemcpyHostToDevice),
                                              "cudaMemcpy to the device");
  }
  bool download(std::vector<float>& values) const {
    std::vector<uint16_t> bits(count_);
    if (!cuda_ok(cudaMemcpy(bits.data(), data_, count_ * 2, cudaMemcpyDeviceToHost), "cudaMemcpy to the host"))
      return false;
    values.resize(count_);
    for (size_t i = 0; i < count_; ++i) values[i] = from_bf16(bits[i]);
    return true;
  }
  void* get() const { return data_; }

 private:
  void* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace example
