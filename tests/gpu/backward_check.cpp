// tilefuse_gpu_backward_check: the backward GEMM (Runtime::matmul_backward,
// dZ = (dY·Wᵀ) ⊙ act'(z), z read from aux) on a real GPU against a float64
// host reference: the accumulator Σ dY·W in float64, act'(z) from float64
// central differences of the DSL interpreter at the stored z. Fresh random
// data (seed printed), D poisoned with NaN bytes, ‖out − ref‖/‖ref‖ <= 1e-2,
// every element written.
//
// Exit status: 0 passed, 1 failed, 77 skipped (no CUDA driver or GPU).
#include <cmath>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "runtime/Driver.h"
#include "support/DeviceBuffer.h"
#include "support/HostTensor.h"
#include "dsl/Interpreter.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::gpu {
namespace {

constexpr int kExitSkip = 77;

struct BackwardCase {
  const char* activation;
  Precision precision;
  DType dtype;
  long long m, n, k;  ///< D = dZ is M x N, the reduction (dY's width) is K
};

double derivative(const dsl::ResolvedProgram& program, double z) {
  const double h = std::ldexp(1.0, -20) * std::max(1.0, std::abs(z));
  dsl::InputValues lo, hi;
  lo.x = z - h;
  hi.x = z + h;
  auto a = dsl::evaluate(program, lo, {}), b = dsl::evaluate(program, hi, {});
  return a && b ? (*b - *a) / (2 * h) : std::nan("");
}

/// Runs one case; returns "" or the reason it failed.
std::string run_case(const Runtime& rt, CUstream stream, const runtime::DriverApi& api, Arch arch,
                     const BackwardCase& c, std::mt19937_64& rng) {
  auto op = rt.matmul_backward({.activation = c.activation, .dtype = c.dtype, .b_col_major = true,
                                .precision = c.precision, .arch = arch});
  if (!op) return op.error().message;
  auto program = dsl::resolve(c.activation);
  if (!program) return program.error().message;

  // dY: M x K; W: N x K row-major, read col-major as B (K x N) so A·B = dY·Wᵀ.
  HostTensor dy(c.dtype, c.m, c.k, c.k), w(c.dtype, c.n, c.k, c.k), z(c.dtype, c.m, c.n, c.n);
  dy.fill_uniform(-1, 1, rng);
  w.fill_uniform(-2 / std::sqrt(double(c.k)), 2 / std::sqrt(double(c.k)), rng);
  z.fill_uniform(-4, 4, rng);
  HostTensor d(c.dtype, c.m, c.n, c.n);

  auto upload = [](const HostTensor& t) -> Expected<DeviceBuffer> {
    auto buffer = DeviceBuffer::allocate(t.size_bytes());
    if (!buffer) return buffer.take_error();
    if (auto ok = buffer->upload(t.data(), t.size_bytes()); !ok) return ok.take_error();
    return buffer;
  };
  auto d_dy = upload(dy), d_w = upload(w), d_z = upload(z);
  auto d_out = DeviceBuffer::allocate(d.size_bytes());
  for (auto* b : {&d_dy, &d_w, &d_z, &d_out})
    if (!*b) return b->error().message;
  if (auto ok = d_out->fill(0xFF); !ok) return ok.error().message;

  MatmulArgs args{.a = d_dy->get(), .b = d_w->get(), .d = d_out->get(), .shape = {c.m, c.n, c.k},
                  .lda = c.k, .ldb = c.k, .ldd = c.n};
  args.aux = d_z->get();
  args.ld_aux = c.n;
  if (auto launched = (*op)(stream, args); !launched) return launched.error().message;
  if (CUresult r = api.cuStreamSynchronize(stream); r != CUDA_SUCCESS)
    return runtime::driver_error(api, r, "cuStreamSynchronize after the backward GEMM").message;
  if (auto ok = d_out->download(d.data(), d.size_bytes()); !ok) return ok.error().message;

  double err2 = 0, ref2 = 0;
  long long unwritten = 0;
  for (long long r = 0; r < c.m; ++r)
    for (long long col = 0; col < c.n; ++col) {
      double acc = 0;
      for (long long kk = 0; kk < c.k; ++kk) acc += dy.at(0, r, kk) * w.at(0, col, kk);
      const double ref = acc * derivative(*program, z.at(0, r, col));
      const double out = d.at(0, r, col);
      if (std::isnan(out)) ++unwritten;
      err2 += (out - ref) * (out - ref);
      ref2 += ref * ref;
    }
  const double rel = std::sqrt(err2 / std::max(ref2, 1e-300));
  std::printf("%-12s %-7s %s %lldx%lldx%lld: rel error %.3e, unwritten %lld\n", c.activation,
              compiler::to_string(c.precision), compiler::to_string(c.dtype), c.m, c.n, c.k, rel, unwritten);
  if (unwritten > 0 || !(rel <= 1e-2)) return fmt::format("rel error {:.3e}, {} unwritten", rel, unwritten);
  return "";
}

}  // namespace
}  // namespace tilefuse::gpu

int main() {
  using namespace tilefuse;
  using namespace tilefuse::gpu;
  auto api = runtime::driver();
  if (!api) {
    std::printf("SKIPPED: %s (tilefuse_gpu_backward_check needs a CUDA driver and an NVIDIA GPU)\n",
                api.error().message.c_str());
    return kExitSkip;
  }
  auto count = runtime::device_count();
  if (!count || *count == 0) {
    std::printf("SKIPPED: %s\n", count ? "the CUDA driver reports no GPU" : count.error().message.c_str());
    return kExitSkip;
  }
  auto device = runtime::query_device(0);
  if (!device) return std::printf("error: %s\n", device.error().message.c_str()), 1;
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) return std::printf("SKIPPED: %s\n", arch_name.error().message.c_str()), kExitSkip;
  const Arch arch = *compiler::parse_arch(*arch_name);
  auto context = runtime::make_context_current(0);
  if (!context) return std::printf("error: %s\n", context.error().message.c_str()), 1;
  CUstream stream = nullptr;
  if ((*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT) != CUDA_SUCCESS) return std::printf("error: cuStreamCreate\n"), 1;

  const std::uint64_t seed = std::random_device{}();
  std::printf("device: %s, kernels for %s, seed %llu\n", device->name.c_str(), arch_name->c_str(),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const BackwardCase cases[] = {
      {"gelu(x)", Precision::Precise, DType::BF16, 256, 384, 512},
      {"silu(x)", Precision::Fast, DType::BF16, 127, 255, 63},
      {"mish(x)", Precision::Precise, DType::F16, 128, 256, 192},
      {"relu(x)", Precision::Precise, DType::BF16, 1, 8, 8},
      {"leaky_relu(x, 0.2) * tanh(x)", Precision::Precise, DType::BF16, 200, 136, 328},
  };
  Runtime rt(RuntimeOptions{.disk_cache = false});
  int failures = 0;
  for (const BackwardCase& c : cases) {
    const std::string why = run_case(rt, stream, **api, arch, c, rng);
    if (!why.empty()) {
      ++failures;
      std::printf("FAIL %s: %s\n", c.activation, why.c_str());
    }
  }
  std::printf("%s: %d of %zu cases failed\n", failures ? "FAILED" : "passed", failures, std::size(cases));
  return failures ? 1 : 0;
}
