// tilefuse_gpu_backward_check: the backward GEMM (Runtime::matmul_backward,
// dZ = (dY·Wᵀ) ⊙ act'(z), z read from aux) on a real GPU against a float64
// host reference: the accumulator Σ dY·W in float64, act'(z) from float64
// central differences of the DSL interpreter at the stored z. Fresh random
// data (seed printed), D poisoned with NaN bytes, ‖out − ref‖/‖ref‖ <= 1e-2,
// every element written.
// The gated training path: a gated forward with aux stores [gate | up]
// (checked against float64 A·W_gate, A·W_up; on sm_90a the op must be
// Unsupported and aux is filled on the host instead), then the gated backward
// GEMM reads it and writes [dgate | dup] = dH ⊙ [∂f/∂gate, ∂f/∂up], dH = dY·W_downᵀ.
//
// Exit status: 0 passed, 1 failed, 77 skipped (no CUDA driver or GPU).
#include <cmath>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "runtime/Driver.h"
#include "runtime/check/DeviceBuffer.h"
#include "runtime/check/HostTensor.h"
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

/// ∂f/∂gate (wrt = &InputValues::gate) or ∂f/∂up of a gated activation.
double partial(const dsl::ResolvedProgram& program, double gate, double up, double dsl::InputValues::*wrt) {
  dsl::InputValues lo, hi;
  lo.gate = hi.gate = gate;
  lo.up = hi.up = up;
  const double h = std::ldexp(1.0, -20) * std::max(1.0, std::abs(lo.*wrt));
  lo.*wrt -= h;
  hi.*wrt += h;
  auto a = dsl::evaluate(program, lo, {}), b = dsl::evaluate(program, hi, {});
  return a && b ? (*b - *a) / (2 * h) : std::nan("");
}

Expected<DeviceBuffer> upload(const HostTensor& t) {
  auto buffer = DeviceBuffer::allocate(t.size_bytes());
  if (!buffer) return buffer.take_error();
  if (auto ok = buffer->upload(t.data(), t.size_bytes()); !ok) return ok.take_error();
  return buffer;
}

/// ‖out − ref‖/‖ref‖ and unwritten (NaN) count of one M x cols comparison.
struct Comparison {
  double err2 = 0, ref2 = 0;
  long long unwritten = 0;
  void add(double out, double ref) {
    if (std::isnan(out)) ++unwritten;
    err2 += (out - ref) * (out - ref);
    ref2 += ref * ref;
  }
  double relative() const { return std::sqrt(err2 / std::max(ref2, 1e-300)); }
  bool passed() const { return unwritten == 0 && relative() <= 1e-2; }
};

struct GatedCase {
  const char* activation;
  DType dtype;
  long long m, n, k, k_down;  ///< X: M x K, gate/up: M x N, dY: M x K_down
};

/// The gated training path; returns "" or the reason it failed.
std::string run_gated_case(const Runtime& rt, CUstream stream, const runtime::DriverApi& api, Arch arch,
                           const GatedCase& c, std::mt19937_64& rng) {
  auto program = dsl::resolve(c.activation);
  if (!program) return program.error().message;
  // Rows padded to 8 elements: N need not be a multiple of 8 (or of 4).
  const long long n2 = 2 * c.n, ld2 = (n2 + 7) / 8 * 8, ldy = (c.n + 7) / 8 * 8;
  HostTensor aux(c.dtype, c.m, n2, ld2);
  auto d_aux = DeviceBuffer::allocate(aux.size_bytes());
  if (!d_aux) return d_aux.error().message;

  // Forward: Y = act(X·W_gateᵀ, X·W_upᵀ), aux = [gate | up].
  auto forward = rt.matmul({.activation = c.activation, .dtype = c.dtype, .aux = true, .b_col_major = true,
                            .arch = arch});
  if (arch == Arch::Sm90a) {
    if (forward) return "a gated forward with aux was accepted for sm_90a, whose kernel has no aux store";
    if (forward.error().code != ErrorCode::Unsupported) return forward.error().message;
    aux.fill_uniform(-4, 4, rng);  // stands in for the forward's [gate | up]
    if (auto ok = d_aux->upload(aux.data(), aux.size_bytes()); !ok) return ok.error().message;
    std::printf("%-16s forward with aux: Unsupported on sm_90a (as documented); aux filled on the host\n", c.activation);
  } else {
    if (!forward) return forward.error().message;
    HostTensor x(c.dtype, c.m, c.k, c.k), w_gate(c.dtype, c.n, c.k, c.k), w_up(c.dtype, c.n, c.k, c.k);
    x.fill_uniform(-1, 1, rng);
    w_gate.fill_uniform(-2 / std::sqrt(double(c.k)), 2 / std::sqrt(double(c.k)), rng);
    w_up.fill_uniform(-2 / std::sqrt(double(c.k)), 2 / std::sqrt(double(c.k)), rng);
    auto d_x = upload(x), d_gate = upload(w_gate), d_up = upload(w_up);
    auto d_y = DeviceBuffer::allocate(static_cast<std::size_t>(c.m * ldy) * 2);
    for (auto* b : {&d_x, &d_gate, &d_up, &d_y})
      if (!*b) return b->error().message;
    if (auto ok = d_aux->fill(0xFF); !ok) return ok.error().message;
    MatmulArgs args{.a = d_x->get(), .b = d_gate->get(), .b_up = d_up->get(), .d = d_y->get(),
                    .shape = {c.m, c.n, c.k}, .ldd = ldy};
    args.aux = d_aux->get();
    args.ld_aux = ld2;
    if (auto launched = (*forward)(stream, args); !launched) return launched.error().message;
    if (CUresult r = api.cuStreamSynchronize(stream); r != CUDA_SUCCESS)
      return runtime::driver_error(api, r, "cuStreamSynchronize after the gated forward").message;
    if (auto ok = d_aux->download(aux.data(), aux.size_bytes()); !ok) return ok.error().message;
    Comparison cmp;
    for (long long r = 0; r < c.m; ++r)
      for (long long col = 0; col < c.n; ++col) {
        double gate = 0, up = 0;
        for (long long kk = 0; kk < c.k; ++kk) {
          gate += x.at(0, r, kk) * w_gate.at(0, col, kk);
          up += x.at(0, r, kk) * w_up.at(0, col, kk);
        }
        cmp.add(aux.at(0, r, col), gate);
        cmp.add(aux.at(0, r, c.n + col), up);
      }
    std::printf("%-16s forward aux [gate | up] %lldx%lldx%lld: rel error %.3e, unwritten %lld\n", c.activation,
                c.m, c.n, c.k, cmp.relative(), cmp.unwritten);
    if (!cmp.passed()) return fmt::format("forward aux: rel error {:.3e}, {} unwritten", cmp.relative(), cmp.unwritten);
  }

  // Backward: dH = dY·W_downᵀ (W_down is N x K_down, read col-major as B), D = [dgate | dup].
  auto backward = rt.matmul_backward({.activation = c.activation, .dtype = c.dtype, .b_col_major = true, .arch = arch});
  if (!backward) return backward.error().message;
  HostTensor dy(c.dtype, c.m, c.k_down, c.k_down), w_down(c.dtype, c.n, c.k_down, c.k_down), d(c.dtype, c.m, n2, ld2);
  dy.fill_uniform(-1, 1, rng);
  w_down.fill_uniform(-2 / std::sqrt(double(c.k_down)), 2 / std::sqrt(double(c.k_down)), rng);
  auto d_dy = upload(dy), d_w = upload(w_down);
  auto d_out = DeviceBuffer::allocate(d.size_bytes());
  for (auto* b : {&d_dy, &d_w, &d_out})
    if (!*b) return b->error().message;
  if (auto ok = d_out->fill(0xFF); !ok) return ok.error().message;
  MatmulArgs args{.a = d_dy->get(), .b = d_w->get(), .d = d_out->get(), .shape = {c.m, c.n, c.k_down},
                  .ldd = ld2};
  args.aux = d_aux->get();
  args.ld_aux = ld2;
  if (auto launched = (*backward)(stream, args); !launched) return launched.error().message;
  if (CUresult r = api.cuStreamSynchronize(stream); r != CUDA_SUCCESS)
    return runtime::driver_error(api, r, "cuStreamSynchronize after the gated backward GEMM").message;
  if (auto ok = d_out->download(d.data(), d.size_bytes()); !ok) return ok.error().message;
  Comparison cmp;
  for (long long r = 0; r < c.m; ++r)
    for (long long col = 0; col < c.n; ++col) {
      double dh = 0;
      for (long long kk = 0; kk < c.k_down; ++kk) dh += dy.at(0, r, kk) * w_down.at(0, col, kk);
      const double gate = aux.at(0, r, col), up = aux.at(0, r, c.n + col);
      cmp.add(d.at(0, r, col), dh * partial(*program, gate, up, &dsl::InputValues::gate));
      cmp.add(d.at(0, r, c.n + col), dh * partial(*program, gate, up, &dsl::InputValues::up));
    }
  std::printf("%-16s backward [dgate | dup] %lldx%lldx%lld: rel error %.3e, unwritten %lld\n", c.activation, c.m,
              c.n, c.k_down, cmp.relative(), cmp.unwritten);
  if (!cmp.passed()) return fmt::format("gated backward: rel error {:.3e}, {} unwritten", cmp.relative(), cmp.unwritten);
  return "";
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
  const GatedCase gated_cases[] = {
      {"silu(gate) * up", DType::BF16, 256, 384, 512, 256},
      {"gelu(gate) * up", DType::F16, 127, 130, 72, 200},  // M and N tails; 4 ∤ N: dup by element stores
  };
  for (const GatedCase& c : gated_cases) {
    const std::string why = run_gated_case(rt, stream, **api, arch, c, rng);
    if (!why.empty()) {
      ++failures;
      std::printf("FAIL %s (gated training): %s\n", c.activation, why.c_str());
    }
  }
  const std::size_t total = std::size(cases) + std::size(gated_cases);
  std::printf("%s: %d of %zu cases failed\n", failures ? "FAILED" : "passed", failures, total);
  return failures ? 1 : 0;
}
