// See BenchKernels.h.
#include "BenchKernels.h"

#include <fmt/format.h>

#include "runtime/KernelCache.h"

namespace tilefuse::bench {
namespace {

constexpr const char* kRandomFillSource = R"(
// splitmix64 of (seed, index) -> uniform in [-scale, scale), never zero.
__device__ __forceinline__ float uniform(unsigned long long seed, long long i, float scale) {
  unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const float u = ((float)(z >> 40) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
  return (2.0f * u - 1.0f) * scale;
}
extern "C" __global__ void fill_bf16(unsigned short* p, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned short h;
    float v = uniform(seed, i, scale);
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(v));
    if ((h & 0x7fff) == 0) h |= 1;  // a value that rounds to zero becomes the smallest subnormal
    p[i] = h;
  }
}
extern "C" __global__ void fill_f16(unsigned short* p, long long n, unsigned long long seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned short h;
    float v = uniform(seed, i, scale);
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    if ((h & 0x7fff) == 0) h |= 1;
    p[i] = h;
  }
}
)";

}  // namespace

const char* const kBenchKernelPrelude = R"(
__device__ __forceinline__ float tf_bench_load(unsigned short bits) {
#if defined(TF_EPILOGUE_OUT_BF16)
  return __uint_as_float(static_cast<unsigned int>(bits) << 16);
#else
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
  return f;
#endif
}
struct alignas(8) TfBenchIn { unsigned short v[4]; };
)";

namespace {

constexpr const char* kActivationKernel = R"(
static_assert(TF_EPILOGUE_VEC == 4, "the activation kernel hands 4 elements to tf_epilogue");
extern "C" __global__ void tf_bench_activation(const unsigned short* __restrict__ in, void* __restrict__ out,
                                               long long rows, long long cols, TfEpilogueParams params) {
  const long long groups_per_row = cols / 4;
  const long long groups = rows * groups_per_row;
  const long long in_ld = TF_EPILOGUE_GATED ? 2 * cols : cols;
  for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < groups;
       g += (long long)gridDim.x * blockDim.x) {
    const long long r = g / groups_per_row, c = (g % groups_per_row) * 4;
    const TfBenchIn a = *reinterpret_cast<const TfBenchIn*>(in + r * in_ld + c);
    float x[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) x[k] = tf_bench_load(a.v[k]);
#if TF_EPILOGUE_GATED
    const TfBenchIn b = *reinterpret_cast<const TfBenchIn*>(in + r * in_ld + cols + c);
    float up[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) up[k] = tf_bench_load(b.v[k]);
    const TfEpilogueOut o = tf_epilogue(x, up, params);
#else
    const TfEpilogueOut o = tf_epilogue(x, params);
#endif
    *reinterpret_cast<TfEpilogueOut*>(static_cast<char*>(out) + (r * cols + c) * TF_EPILOGUE_OUT_BYTES) = o;
  }
}
)";

Expected<runtime::Loaded> compile_and_load(runtime::Source source) {
  auto compiled = runtime::process_kernel_cache().get_or_compile({std::move(source), "precise"});
  if (!compiled) return compiled.take_error();
  return runtime::Loaded::load(*compiled->compiled);
}

constexpr unsigned kThreads = 256;

/// Multiprocessors of device 0, queried when a kernel is loaded: a timed
/// launch must not pay for driver queries (issue 13: the peer's activation
/// kernel did, on every launch).
Expected<int> sm_count() {
  auto device = runtime::query_device(0);
  if (!device) return device.take_error();
  return device->sm_count;
}

unsigned grid_for(long long work, int sms) {
  const long long blocks = (work + kThreads - 1) / kThreads;
  const long long cap = static_cast<long long>(sms) * 16;  // grid-stride beyond this
  return static_cast<unsigned>(std::max(1LL, std::min(blocks, cap)));
}

}  // namespace

Expected<RandomFill> RandomFill::load(const std::string& arch) {
  runtime::Source source;
  source.name = "bench_fill.cu";
  source.code = kRandomFillSource;
  source.options.arch = arch;
  auto loaded = compile_and_load(std::move(source));
  if (!loaded) return loaded.take_error();
  RandomFill fill;
  auto sms = sm_count();
  if (!sms) return sms.take_error();
  fill.sm_count_ = *sms;
  auto bf16 = loaded->kernel("fill_bf16");
  if (!bf16) return bf16.take_error();
  auto f16 = loaded->kernel("fill_f16");
  if (!f16) return f16.take_error();
  fill.bf16_ = std::move(*bf16);
  fill.f16_ = std::move(*f16);
  return fill;
}

Expected<void> RandomFill::run(CUstream stream, void* data, long long n, unsigned long long seed, float scale,
                               compiler::DType type) const {
  runtime::LaunchConfig config;
  config.grid[0] = grid_for(n, sm_count_);
  config.block[0] = kThreads;
  void* args[] = {&data, &n, &seed, &scale};
  return runtime::launch(type == compiler::DType::BF16 ? bf16_ : f16_, config, stream, args);
}

Expected<ActivationKernel> ActivationKernel::load(const compiler::KernelSpec& spec) {
  auto epilogue = compiler::compile(spec);
  if (!epilogue) return epilogue.take_error();
  runtime::Source source;
  source.name = "bench_activation.cu";
  source.code = fmt::format("#include \"tilefuse/epilogue_support.cuh\"\n{}\n{}{}", epilogue->cuda, kBenchKernelPrelude, kActivationKernel);
  source.options.arch = compiler::to_string(spec.arch);
  auto loaded = compile_and_load(std::move(source));
  if (!loaded) return loaded.take_error();
  auto kernel = loaded->kernel("tf_bench_activation");
  if (!kernel) return kernel.take_error();
  ActivationKernel k;
  auto sms = sm_count();
  if (!sms) return sms.take_error();
  k.sm_count_ = *sms;
  k.kernel_ = std::move(*kernel);
  k.gated_ = epilogue->inputs == dsl::InputKind::Gated;
  k.parameter_count_ = epilogue->parameters.size();
  return k;
}

Expected<void> ActivationKernel::run(CUstream stream, const void* in, void* out, long long rows, long long cols,
                                     const std::vector<float>& params) const {
  if (cols % 4 != 0 || params.size() != parameter_count_)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("activation kernel: cols {} must be a multiple of 4 and {} parameter values "
                                  "given for {}",
                                  cols, params.size(), parameter_count_));
  runtime::LaunchConfig config;
  config.grid[0] = grid_for(rows * cols / 4, sm_count_);
  config.block[0] = kThreads;
  // TfEpilogueParams is a struct of floats (one byte when empty): pass their
  // bytes; an empty struct gets a dummy float, without allocating per launch.
  float empty = 0.0f;
  void* values = params.empty() ? static_cast<void*>(&empty) : const_cast<float*>(params.data());
  void* args[] = {&in, &out, &rows, &cols, values};
  return runtime::launch(kernel_, config, stream, args);
}

}  // namespace tilefuse::bench
