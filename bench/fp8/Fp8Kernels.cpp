// See Fp8Kernels.h.
#include "bench/fp8/Fp8Kernels.h"

#include <algorithm>

#include "runtime/KernelCache.h"

namespace tilefuse::bench {
namespace {

constexpr const char* kSource = R"(
__device__ __forceinline__ float uniform(unsigned long long seed, long long i, float scale) {
  unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const float u = ((float)(z >> 40) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
  return (2.0f * u - 1.0f) * scale;
}
extern "C" __global__ void fill_e4m3(unsigned char* p, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned short pair;
    const float v = uniform(seed, i, scale);
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(pair) : "f"(0.0f), "f"(v));  // low byte = e4m3(v)
    unsigned char b = (unsigned char)(pair & 0xFF);
    if ((b & 0x7F) == 0) b |= 1;  // zero becomes the smallest subnormal (2^-9)
    p[i] = b;
  }
}
extern "C" __global__ void max_abs_bf16(const unsigned short* in, long long n, unsigned int* result) {
  unsigned int best = 0;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    best = max(best, (unsigned int)(in[i] & 0x7FFF) << 16);  // |x| as f32 bits
  for (int offset = 16; offset > 0; offset /= 2) best = max(best, __shfl_xor_sync(0xFFFFFFFFu, best, offset));
  if ((threadIdx.x & 31) == 0) atomicMax(result, best);
}
)";

constexpr unsigned kThreads = 256;

unsigned grid_for(long long work, int sms) {
  const long long blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max(1LL, std::min(blocks, static_cast<long long>(sms) * 16)));
}

Expected<runtime::CacheResult> compile_source(const std::string& arch) {
  runtime::Source source;
  source.name = "bench_fp8.cu";
  source.code = kSource;
  source.options.arch = arch;
  return runtime::process_kernel_cache().get_or_compile({std::move(source), "precise"});
}

}  // namespace

Expected<void> Fp8Kernels::compile(const std::string& arch) {
  auto compiled = compile_source(arch);
  if (!compiled) return compiled.take_error();
  return {};
}

Expected<Fp8Kernels> Fp8Kernels::load(const std::string& arch) {
  auto compiled = compile_source(arch);
  if (!compiled) return compiled.take_error();
  auto loaded = runtime::Loaded::load(*compiled->compiled);
  if (!loaded) return loaded.take_error();
  auto fill = loaded->kernel("fill_e4m3");
  if (!fill) return fill.take_error();
  auto max_abs = loaded->kernel("max_abs_bf16");
  if (!max_abs) return max_abs.take_error();
  auto device = runtime::query_device(0);
  if (!device) return device.take_error();
  Fp8Kernels k;
  k.fill_ = std::move(*fill);
  k.max_abs_ = std::move(*max_abs);
  k.sm_count_ = device->sm_count;
  return k;
}

Expected<void> Fp8Kernels::fill_e4m3(CUstream stream, void* data, long long n, unsigned long long seed,
                                     float scale) const {
  runtime::LaunchConfig config;
  config.grid[0] = grid_for(n, sm_count_);
  config.block[0] = kThreads;
  void* args[] = {&data, &n, &seed, &scale};
  return runtime::launch(fill_, config, stream, args);
}

Expected<void> Fp8Kernels::max_abs_bf16(CUstream stream, const void* in, long long n, float* result) const {
  runtime::LaunchConfig config;
  config.grid[0] = grid_for(n, sm_count_);
  config.block[0] = kThreads;
  void* args[] = {&in, &n, &result};
  return runtime::launch(max_abs_, config, stream, args);
}

}  // namespace tilefuse::bench
