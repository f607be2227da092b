// tilefuse_bench_backward (issue 8): the backward GEMM of an activation,
//   dZ (M x N) = (dY (M x K) · Wᵀ) ⊙ act'(z),  W N x K row-major, z M x N,
// timed three ways in one run on the same GPU:
//   tilefuse      Runtime::matmul_backward (z read in the fused epilogue)
//   cublas+bwd    cuBLAS GEMM to a temporary, then a separate element-wise
//                 kernel tmp ⊙ act'(z) (tilefuse's generated derivative)
//   cublaslt      cuBLASLt's CUBLASLT_EPILOGUE_DGELU (gelu_tanh only: its
//                 GELU is the tanh form)
// CUDA events, cold L2 per repetition, median (bench/gemm/EventTimer). Every
// timed output is checked once on a sample against float64 (accumulator in
// float64, act'(z) by central differences of the interpreter).
// Exit status: 0 all results correct, 1 otherwise, 77 without a GPU.
#include <cublasLt.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <tuple>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../gemm/BenchKernels.h"
#include "../gemm/CublasGemm.h"
#include "../gemm/EventTimer.h"
#include "compiler/Target/TargetInfo.h"
#include "dsl/Interpreter.h"
#include "runtime/KernelCache.h"
#include "runtime/Driver.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {
namespace {

constexpr int kExitSkip = 77;

/// tmp ⊙ act'(z) over 16-bit tensors, 4 elements per thread step, through
/// the generated backward epilogue tf_epilogue(dy, z, params).
constexpr const char* kSeparateBackward = R"(
static_assert(TF_EPILOGUE_VEC == 4, "the backward kernel hands 4 elements to tf_epilogue");
extern "C" __global__ void tf_bench_backward(const unsigned short* __restrict__ tmp, const unsigned short* __restrict__ z,
                                             void* __restrict__ out, long long n, TfEpilogueParams params) {
  for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < n / 4; g += (long long)gridDim.x * blockDim.x) {
    const TfBenchIn a = *reinterpret_cast<const TfBenchIn*>(tmp + 4 * g);
    const TfBenchIn b = *reinterpret_cast<const TfBenchIn*>(z + 4 * g);
    float dy[4], x[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) dy[k] = tf_bench_load(a.v[k]), x[k] = tf_bench_load(b.v[k]);
    *reinterpret_cast<TfEpilogueOut*>(static_cast<char*>(out) + 4 * g * TF_EPILOGUE_OUT_BYTES) = tf_epilogue(dy, x, params);
  }
}
)";

struct Shape3 {
  long long m, n, k;
};

Error lt_error(cublasStatus_t status, const char* what) {
  return make_error(ErrorCode::DriverError, fmt::format("{} failed: {}", what, cublasGetStatusName(status)));
}

/// cuBLASLt DGELU: Dᵀ (N x M) = op_T(W) · dYᵀ with the GELU gradient of aux
/// (z, same layout as D) applied.
struct LtDgelu {
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  gpu::DeviceBuffer workspace;
  ~LtDgelu() {
    for (auto layout : {a, b, d})
      if (layout) cublasLtMatrixLayoutDestroy(layout);
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (handle) cublasLtDestroy(handle);
  }
  Expected<void> plan(const Shape3& s, DType type, void* z) {
    auto ws = gpu::DeviceBuffer::allocate(32u << 20);
    if (!ws) return ws.take_error();
    workspace = std::move(*ws);
    const cudaDataType t = type == DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
    cublasStatus_t st = cublasLtCreate(&handle);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_error(st, "cublasLtCreate");
    if ((st = cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F)) != CUBLAS_STATUS_SUCCESS)
      return lt_error(st, "cublasLtMatmulDescCreate");
    const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DGELU;
    const long long ld_aux = s.n;
    for (auto [attr, value, size] :
         {std::tuple{CUBLASLT_MATMUL_DESC_TRANSA, static_cast<const void*>(&transpose), sizeof transpose},
          std::tuple{CUBLASLT_MATMUL_DESC_TRANSB, static_cast<const void*>(&none), sizeof none},
          std::tuple{CUBLASLT_MATMUL_DESC_EPILOGUE, static_cast<const void*>(&epilogue), sizeof epilogue},
          std::tuple{CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, static_cast<const void*>(&z), sizeof z},
          std::tuple{CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, static_cast<const void*>(&ld_aux), sizeof ld_aux}})
      if ((st = cublasLtMatmulDescSetAttribute(desc, attr, value, size)) != CUBLAS_STATUS_SUCCESS)
        return lt_error(st, "cublasLtMatmulDescSetAttribute");
    if ((st = cublasLtMatrixLayoutCreate(&a, t, s.k, s.n, s.k)) != CUBLAS_STATUS_SUCCESS ||
        (st = cublasLtMatrixLayoutCreate(&b, t, s.k, s.m, s.k)) != CUBLAS_STATUS_SUCCESS ||
        (st = cublasLtMatrixLayoutCreate(&d, t, s.n, s.m, s.n)) != CUBLAS_STATUS_SUCCESS)
      return lt_error(st, "cublasLtMatrixLayoutCreate");
    cublasLtMatmulPreference_t preference = nullptr;
    if ((st = cublasLtMatmulPreferenceCreate(&preference)) != CUBLAS_STATUS_SUCCESS)
      return lt_error(st, "cublasLtMatmulPreferenceCreate");
    const std::size_t bytes = workspace.bytes();
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof bytes);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    st = cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, d, d, preference, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(preference);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_error(st, "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) return make_error(ErrorCode::Unsupported, "cuBLASLt has no DGELU algorithm for this shape");
    algo = result.algo;
    return {};
  }
  Expected<void> run(CUstream stream, const void* dy, const void* w, void* out) const {
    const float alpha = 1.0f, beta = 0.0f;
    cublasStatus_t st = cublasLtMatmul(handle, desc, &alpha, w, a, dy, b, &beta, out, d, out, d, &algo,
                                       workspace.get(), workspace.bytes(), stream);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_error(st, "cublasLtMatmul (DGELU)");
    return {};
  }
};

double element(const void* base, long long i, DType type) {
  const std::uint16_t bits = static_cast<const std::uint16_t*>(base)[i];
  if (type == DType::BF16) {
    const std::uint32_t word = static_cast<std::uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &word, 4);
    return f;
  }
  const int exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff, sign = bits >> 15 ? -1 : 1;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

/// ‖out − ref‖/‖ref‖ over 256 sampled elements (dY and W rows read back).
Expected<double> sampled_error(const gpu::DeviceBuffer& dy, const gpu::DeviceBuffer& w, const gpu::DeviceBuffer& z,
                               const gpu::DeviceBuffer& out, const Shape3& s, DType type,
                               const dsl::ResolvedProgram& program, std::mt19937_64& rng) {
  std::vector<std::uint16_t> a_row(s.k), w_row(s.k);
  std::uint16_t z_bits = 0, out_bits = 0;
  double err2 = 0, ref2 = 0;
  for (int sample = 0; sample < 256; ++sample) {
    const long long r = static_cast<long long>(rng() % s.m), c = static_cast<long long>(rng() % s.n);
    if (auto ok = dy.download(a_row.data(), s.k * 2, r * s.k * 2); !ok) return ok.take_error();
    if (auto ok = w.download(w_row.data(), s.k * 2, c * s.k * 2); !ok) return ok.take_error();
    if (auto ok = z.download(&z_bits, 2, (r * s.n + c) * 2); !ok) return ok.take_error();
    if (auto ok = out.download(&out_bits, 2, (r * s.n + c) * 2); !ok) return ok.take_error();
    double acc = 0;
    for (long long k = 0; k < s.k; ++k) acc += element(a_row.data(), k, type) * element(w_row.data(), k, type);
    const double zv = element(&z_bits, 0, type), h = std::ldexp(1.0, -20) * std::max(1.0, std::abs(zv));
    dsl::InputValues lo, hi;
    lo.x = zv - h;
    hi.x = zv + h;
    auto f_lo = dsl::evaluate(program, lo, {}), f_hi = dsl::evaluate(program, hi, {});
    if (!f_lo || !f_hi) return make_error(ErrorCode::Internal, "reference evaluation failed");
    const double ref = acc * (*f_hi - *f_lo) / (2 * h), got = element(&out_bits, 0, type);
    if (std::isnan(got)) return std::numeric_limits<double>::infinity();
    err2 += (got - ref) * (got - ref);
    ref2 += ref * ref;
  }
  return std::sqrt(err2 / std::max(ref2, 1e-300));
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) {
  using namespace tilefuse;
  using namespace tilefuse::bench;
  CLI::App app{"tilefuse backward GEMM benchmark (issue 8)"};
  std::string activation = "gelu_tanh(x)", out_path = "backward_bench.json";
  bool quick = false;
  app.add_option("--activation", activation, "single-input activation whose backward is timed");
  app.add_option("--out", out_path, "JSON results");
  app.add_flag("--quick", quick, "two small shapes only");
  CLI11_PARSE(app, argc, argv);

  auto api = runtime::driver();
  if (!api) return fmt::print("SKIPPED: {} (the benchmark needs a CUDA driver and a GPU)\n", api.error().message), kExitSkip;
  auto count = runtime::device_count();
  if (!count || *count == 0) return fmt::print("SKIPPED: no GPU\n"), kExitSkip;
  auto device = runtime::query_device(0);
  if (!device) return fmt::print("error: {}\n", device.error().message), 1;
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) return fmt::print("SKIPPED: {}\n", arch_name.error().message), kExitSkip;
  const Arch arch = *compiler::parse_arch(*arch_name);
  auto context = runtime::make_context_current(0);
  if (!context) return fmt::print("error: {}\n", context.error().message), 1;
  CUstream stream = nullptr;
  if ((*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT) != CUDA_SUCCESS) return fmt::print("error: cuStreamCreate\n"), 1;
  auto timer = EventTimer::create(stream);
  auto fill = RandomFill::load(*arch_name);
  auto cublas = CublasGemm::create();
  auto program = dsl::resolve(activation);
  for (const Error* e : {timer ? nullptr : &timer.error(), fill ? nullptr : &fill.error(),
                         cublas ? nullptr : &cublas.error(), program ? nullptr : &program.error()})
    if (e) return fmt::print("error: {}\n", e->message), 1;

  // The separate element-wise backward: the same generated derivative.
  compiler::KernelSpec spec;
  spec.expression = activation;
  spec.gradient = true;
  spec.arch = arch;
  spec.tile = compiler::make_target(Arch::Sm80)->default_tile(4096, 4096, 4096);  // vector width 4
  auto epilogue = compiler::compile(spec);
  if (!epilogue) return fmt::print("error: {}\n", epilogue.error().message), 1;
  runtime::Source source;
  source.name = "bench_backward.cu";
  source.code = fmt::format("#include \"tilefuse/epilogue_support.cuh\"\n{}\n{}{}", epilogue->cuda, kBenchKernelPrelude, kSeparateBackward);
  source.options.arch = *arch_name;
  auto compiled = runtime::process_kernel_cache().get_or_compile({source, "precise"});
  if (!compiled) return fmt::print("error: {}\n", compiled.error().message), 1;
  auto loaded = runtime::Loaded::load(*compiled->compiled);
  if (!loaded) return fmt::print("error: {}\n", loaded.error().message), 1;
  auto separate = loaded->kernel("tf_bench_backward");
  if (!separate) return fmt::print("error: {}\n", separate.error().message), 1;

  Runtime rt;
  auto op = rt.matmul_backward({.activation = activation, .b_col_major = true});
  if (!op) return fmt::print("error: {}\n", op.error().message), 1;
  const bool lt_supported = activation == "gelu_tanh(x)" || activation == "gelu_tanh";

  std::vector<Shape3> shapes = {{128, 4096, 14336}, {4096, 4096, 4096}, {4096, 4096, 14336}, {16384, 4096, 14336}};
  if (quick) shapes = {{128, 512, 256}, {1024, 1024, 1024}};
  std::mt19937_64 rng(std::random_device{}());
  nlohmann::json records = nlohmann::json::array();
  int failures = 0;
  fmt::print("device: {} ({}), activation {}\n", device->name, *arch_name, activation);
  for (const Shape3& s : shapes) {
    auto dy = gpu::DeviceBuffer::allocate(s.m * s.k * 2), w = gpu::DeviceBuffer::allocate(s.n * s.k * 2),
         z = gpu::DeviceBuffer::allocate(s.m * s.n * 2), out = gpu::DeviceBuffer::allocate(s.m * s.n * 2),
         tmp = gpu::DeviceBuffer::allocate(s.m * s.n * 2);
    for (auto* b : {&dy, &w, &z, &out, &tmp})
      if (!*b) return fmt::print("error: {}\n", b->error().message), 1;
    (void)fill->run(stream, dy->get(), s.m * s.k, rng(), 1.0f, DType::BF16);
    (void)fill->run(stream, w->get(), s.n * s.k, rng(), 2.0f / std::sqrt(double(s.k)), DType::BF16);
    (void)fill->run(stream, z->get(), s.m * s.n, rng(), 4.0f, DType::BF16);
    const double flops = 2.0 * s.m * s.n * s.k;
    nlohmann::json record = {{"M", s.m}, {"N", s.n}, {"K", s.k}, {"activation", activation}};
    auto time = [&](const char* name, const std::function<Expected<void>()>& launch) -> std::optional<double> {
      if (auto ok = out->fill(0xFF); !ok) return std::nullopt;
      auto ms = timer->median_ms(launch, {});
      if (!ms) {
        fmt::print("  {:<11} error: {}\n", name, ms.error().message);
        record[name] = {{"error", ms.error().message}};
        ++failures;
        return std::nullopt;
      }
      auto err = sampled_error(*dy, *w, *z, *out, s, DType::BF16, *program, rng);
      const bool correct = err && *err <= 1e-2;
      if (!correct) ++failures;
      fmt::print("  {:<11} {:>9.3f} ms {:>7.1f} TFLOP/s  rel err {:.2e}{}\n", name, *ms, flops / *ms / 1e9,
                 err ? *err : -1.0, correct ? "" : "  WRONG");
      record[name] = {{"ms", *ms}, {"tflops", flops / *ms / 1e9}, {"rel_error", err ? *err : -1.0}, {"correct", correct}};
      return *ms;
    };
    fmt::print("{}x{}x{}\n", s.m, s.n, s.k);
    MatmulArgs args{.a = dy->get(), .b = w->get(), .d = out->get(), .shape = {s.m, s.n, s.k}};
    args.aux = z->get();
    auto fused = time("tilefuse", [&] { return (*op)(stream, args); });
    auto pair = time("cublas+bwd", [&]() -> Expected<void> {
      if (auto ok = cublas->run(stream, dy->get(), w->get(), tmp->get(), s.m, s.n, s.k, DType::BF16); !ok) return ok;
      runtime::LaunchConfig config;
      config.grid[0] = static_cast<unsigned>(std::min<long long>((s.m * s.n / 4 + 255) / 256, device->sm_count * 16LL));
      config.block[0] = 256;
      const void* tmp_ptr = tmp->get();
      const void* z_ptr = z->get();
      void* out_ptr = out->get();
      long long n = s.m * s.n;
      float no_params = 0.0f;
      void* kernel_args[] = {&tmp_ptr, &z_ptr, &out_ptr, &n, &no_params};
      return runtime::launch(*separate, config, stream, kernel_args);
    });
    if (lt_supported) {
      LtDgelu lt;
      if (auto planned = lt.plan(s, DType::BF16, z->get()); !planned) {
        fmt::print("  cublaslt    {}\n", planned.error().message);
      } else {
        auto lt_ms = time("cublaslt", [&] { return lt.run(stream, dy->get(), w->get(), out->get()); });
        if (fused && lt_ms) record["tilefuse_vs_cublaslt"] = *lt_ms / *fused;
      }
    }
    if (fused && pair) record["tilefuse_vs_pair"] = *pair / *fused;
    records.push_back(record);
  }
  std::ofstream(out_path) << records.dump(2) << "\n";
  fmt::print("{}: results in {}\n", failures ? "FAILED" : "done", out_path);
  return failures ? 1 : 0;
}
