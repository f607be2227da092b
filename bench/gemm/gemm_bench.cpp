// tilefuse_bench_gemm: the fused GEMM + activation against cuBLAS in one run
// on one GPU (issue 4, item 8).
//
//   impl "tilefuse"    the fused kernel (relu, gelu, gelu_tanh, silu, a custom
//                      mish; swiglu and geglu gated with W_gate and W_up), tile
//                      from the built-in heuristic or the GPU's tuning database
//   impl "cublas"      cuBLAS plain GEMM, activation "none" (the ceiling); for
//                      a gated activation also at width 2N (same FLOPs)
//   impl "cublas+act"  cuBLAS GEMM (width 2N for gated) + a separate
//                      activation kernel: a small NVRTC kernel reading and
//                      writing 16-bit values that applies tilefuse's own
//                      generated epilogue (bench/gemm/BenchKernels.cpp)
//   impl "cublaslt_epilogue"  cuBLASLt with its own fused RELU / GELU epilogue
//                      where one computes the activation as written (relu,
//                      gelu_tanh: bench/gemm/CublasLtEpilogue.h)
//
// B is the weight in PyTorch Linear layout (N x K). Inputs are fresh random
// data (never zero), timed with CUDA events after warm-up, L2 flushed before
// every repetition (256 MiB written), median reported; each output is checked
// once against a float64 reference on sampled rows x columns. Writes
// <out>/results.json: {device, command, records: [{impl, activation, M, N, K,
// dtype, ms, tflops, correct}], launch_overhead: [...], jit: [...]}; prints
// ratios. Host costs (launch call, first call cold/warm): HostOverhead.h.
// Exit 77 without a GPU.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "BenchKernels.h"
#include "CublasGemm.h"
#include "CublasLtEpilogue.h"
#include "EventTimer.h"
#include "HostOverhead.h"
#include "SampledCheck.h"
#include "runtime/Driver.h"

namespace tilefuse::bench {
namespace {

constexpr int kExitSkip = 77;

struct Shape3 {
  long long m, n, k;
};

/// The LLM shapes of docs/performance.md: M x (K, N) plus square 4096 and 8192.
std::vector<Shape3> default_shapes(bool quick) {
  std::vector<Shape3> shapes;
  const std::vector<long long> ms = quick ? std::vector<long long>{128, 4096} : std::vector<long long>{16, 128, 1024, 4096, 16384};
  const std::vector<std::pair<long long, long long>> kns =
      quick ? std::vector<std::pair<long long, long long>>{{4096, 14336}}
            : std::vector<std::pair<long long, long long>>{{4096, 14336}, {4096, 11008}, {8192, 28672}, {14336, 4096}};
  for (long long m : ms)
    for (auto [k, n] : kns) shapes.push_back({m, n, k});
  shapes.push_back({4096, 4096, 4096});
  if (!quick) shapes.push_back({8192, 8192, 8192});
  return shapes;
}

std::string slug(std::string text) {
  for (char& c : text)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  return text;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::gmtime(&now));
  return buffer;
}

double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }

struct Bench {
  CUstream stream;
  const runtime::DriverApi& api;
  EventTimer timer;
  TimingOptions timing;
  RandomFill fill;
  CublasGemm cublas;
  Runtime rt;
  DType dtype;
  Arch arch;
  std::mt19937_64 rng;
  nlohmann::json records = nlohmann::json::array();
  std::optional<CublasLtEpilogue> lt;  // set after construction (cuBLASLt handle + workspace)
};

void record(Bench& b, const char* impl, const std::string& activation, const Shape3& s, double ms, double flops,
            bool correct, double rel_error) {
  const double tf = tflops(flops, ms);
  b.records.push_back({{"impl", impl}, {"activation", activation}, {"M", s.m}, {"N", s.n}, {"K", s.k},
                       {"dtype", compiler::to_string(b.dtype)}, {"ms", ms}, {"tflops", tf}, {"correct", correct},
                       {"rel_error", rel_error}});
  fmt::print("  {:<11} {:<7} {:>9.4f} ms {:>8.1f} TFLOP/s  {} (rel {:.1e})\n", impl, activation, ms, tf,
             correct ? "ok" : "WRONG", rel_error);
}

Expected<void> bench_shape(Bench& b, const Shape3& s, const std::vector<std::string>& activations) {
  fmt::print("M={} N={} K={} {}\n", s.m, s.n, s.k, compiler::to_string(b.dtype));
  auto alloc = [](long long elements, int bytes) { return gpu::DeviceBuffer::allocate(elements * bytes); };
  auto a = alloc(s.m * s.k, 2);
  auto w = alloc(2 * s.n * s.k, 2);  // W_gate rows then W_up rows (gated); W alone uses the first N
  auto wide = alloc(s.m * 2 * s.n, 2);
  auto out = alloc(s.m * s.n, 2);
  for (auto* buffer : {&a, &w, &wide, &out})
    if (!*buffer) return buffer->take_error();
  if (auto ok = b.fill.run(b.stream, a->get(), s.m * s.k, b.rng(), 1.0f, b.dtype); !ok) return ok;
  const float w_scale = 2.0f / std::sqrt(static_cast<float>(s.k));
  if (auto ok = b.fill.run(b.stream, w->get(), 2 * s.n * s.k, b.rng(), w_scale, b.dtype); !ok) return ok;
  const BenchOperands operands{&*a, &*w, s.m, s.n, s.k, b.dtype};
  const double flops = 2.0 * s.m * s.n * s.k;

  // cuBLAS plain, at width N and (for gated peers) 2N.
  bool any_gated = false;
  for (const std::string& act : activations) {
    auto op = b.rt.matmul({.activation = act, .dtype = b.dtype, .b_col_major = true});
    if (!op) return op.take_error();
    any_gated |= op->gated();
  }
  std::map<long long, double> cublas_tflops;  // by output width
  for (long long width : any_gated ? std::vector<long long>{s.n, 2 * s.n} : std::vector<long long>{s.n}) {
    if (auto ok = wide->fill(0xFF); !ok) return ok;
    auto ms = b.timer.median_ms([&] { return b.cublas.run(b.stream, a->get(), w->get(), wide->get(), s.m, width, s.k, b.dtype); },
                                b.timing);
    if (!ms) return ms.take_error();
    BenchOperands wide_operands = operands;
    wide_operands.n = width;
    auto check = check_sample(wide_operands, *wide, width, nullptr, {}, false, b.rng);
    if (!check) return check.take_error();
    record(b, "cublas", "none", {s.m, width, s.k}, *ms, 2.0 * s.m * width * s.k, check->correct(), check->rel_error);
    cublas_tflops[width] = tflops(2.0 * s.m * width * s.k, *ms);
  }

  for (const std::string& activation : activations) {
    auto op = b.rt.matmul({.activation = activation, .dtype = b.dtype, .b_col_major = true});
    if (!op) return op.take_error();
    auto program = dsl::resolve(activation);
    if (!program) return program.take_error();
    const bool gated = op->gated();
    const double op_flops = gated ? 2 * flops : flops;

    // tilefuse fused.
    if (auto ok = out->fill(0xFF); !ok) return ok;
    MatmulArgs args{.a = a->get(), .b = w->get(), .d = out->get(), .shape = {s.m, s.n, s.k}};
    if (gated) args.b_up = static_cast<const char*>(w->get()) + s.n * s.k * 2;
    if (auto compiled = op->compile({s.m, s.n, s.k}, b.arch); !compiled) return compiled.take_error();
    auto fused_ms = b.timer.median_ms([&] { return (*op)(b.stream, args); }, b.timing);
    if (!fused_ms) return fused_ms.take_error();
    auto fused_check = check_sample(operands, *out, s.n, &*program, {}, gated, b.rng);
    if (!fused_check) return fused_check.take_error();
    record(b, "tilefuse", activation, s, *fused_ms, op_flops, fused_check->correct(), fused_check->rel_error);

    // cuBLAS + separate activation kernel.
    compiler::KernelSpec spec;
    spec.expression = activation;
    spec.input_type = spec.output_type = b.dtype;
    spec.arch = b.arch;
    auto act = ActivationKernel::load(spec);
    if (!act) return act.take_error();
    if (auto ok = out->fill(0xFF); !ok) return ok;
    const long long width = gated ? 2 * s.n : s.n;
    auto pair_ms = b.timer.median_ms(
        [&]() -> Expected<void> {
          if (auto ok = b.cublas.run(b.stream, a->get(), w->get(), wide->get(), s.m, width, s.k, b.dtype); !ok) return ok;
          return act->run(b.stream, wide->get(), out->get(), s.m, s.n, {});
        },
        b.timing);
    if (!pair_ms) return pair_ms.take_error();
    auto pair_check = check_sample(operands, *out, s.n, &*program, {}, gated, b.rng);
    if (!pair_check) return pair_check.take_error();
    record(b, "cublas+act", activation, s, *pair_ms, op_flops, pair_check->correct(), pair_check->rel_error);
    // Gated: against cuBLAS at width 2N (the same FLOPs); if that was not run, at N.
    const double ceiling = cublas_tflops.count(gated ? 2 * s.n : s.n) ? cublas_tflops[gated ? 2 * s.n : s.n]
                                                                       : cublas_tflops[s.n];
    fmt::print("  -> {}: {:.2f}x cuBLAS plain TFLOP/s, {:.2f}x the speed of cuBLAS+act\n", activation,
               tflops(op_flops, *fused_ms) / ceiling, *pair_ms / *fused_ms);

    // cuBLASLt's own fused epilogue, where it has one for this activation.
    if (auto epilogue = lt_epilogue_for(activation); epilogue && b.lt) {
      auto plan = b.lt->plan(s.m, s.n, s.k, b.dtype, *epilogue);
      if (!plan) {
        fmt::print("  cublaslt_epilogue {}: not run: {}\n", activation, plan.error().message);
        continue;
      }
      if (auto ok = out->fill(0xFF); !ok) return ok;
      auto lt_ms = b.timer.median_ms([&] { return b.lt->run(b.stream, **plan, a->get(), w->get(), out->get()); },
                                     b.timing);
      if (!lt_ms) return lt_ms.take_error();
      auto lt_check = check_sample(operands, *out, s.n, &*program, {}, false, b.rng);
      if (!lt_check) return lt_check.take_error();
      record(b, "cublaslt_epilogue", activation, s, *lt_ms, flops, lt_check->correct(), lt_check->rel_error);
    }
  }
  return {};
}

int run(int argc, char** argv) {
  CLI::App app{"tilefuse fused GEMM + activation vs cuBLAS (plain and + separate activation)"};
  std::string out_dir, dtype_name = "bf16";
  // Issue 7's list; the custom one is recorded under its text (bench/peers uses the same).
  std::vector<std::string> activations = {"relu", "gelu", "gelu_tanh", "silu", "x * tanh(softplus(x))",
                                          "swiglu", "geglu"};
  TimingOptions timing;
  bool quick = false;
  app.add_option("--out", out_dir, "output directory (default bench/results/<gpu>-<date>)");
  app.add_option("--dtype", dtype_name, "bf16 (default) or f16")->check(CLI::IsMember({"bf16", "f16"}));
  app.add_option("--activations", activations, "activations to fuse");
  app.add_option("--reps", timing.repetitions, "timed repetitions per measurement (median)");
  app.add_option("--warmup", timing.warmup, "untimed runs first");
  app.add_flag("--quick", quick, "a few shapes only");
  bool no_host = false;
  app.add_flag("--no-host", no_host, "skip the launch-overhead and first-call (JIT) measurements");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);

  auto api = runtime::driver();
  if (!api) {
    fmt::print("SKIPPED: {} (tilefuse_bench_gemm needs a CUDA driver and an NVIDIA GPU)\n", api.error().message);
    return kExitSkip;
  }
  auto count = runtime::device_count();
  if (!count || *count == 0) {
    fmt::print("SKIPPED: {}\n", count ? "the CUDA driver reports no GPU" : count.error().message);
    return kExitSkip;
  }
  auto device = runtime::query_device(0);
  if (!device) return fmt::print("error: {}\n", device.error().message), 1;
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) return fmt::print("SKIPPED: {}\n", arch_name.error().message), kExitSkip;
  if (out_dir.empty()) out_dir = fmt::format("bench/results/{}-{}", slug(device->name), today());

  auto context = runtime::make_context_current(0);
  if (!context) return fmt::print("error: {}\n", context.error().message), 1;
  CUstream stream = nullptr;
  if (CUresult r = (*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT); r != CUDA_SUCCESS)
    return fmt::print("error: {}\n", runtime::driver_error(**api, r, "cuStreamCreate").message), 1;
  auto timer = EventTimer::create(stream);
  auto fill = RandomFill::load(*arch_name);
  auto cublas = CublasGemm::create();
  auto lt = CublasLtEpilogue::create();
  for (const Error* e : {timer ? nullptr : &timer.error(), fill ? nullptr : &fill.error(),
                         cublas ? nullptr : &cublas.error(), lt ? nullptr : &lt.error()})
    if (e) return fmt::print("error: {}\n{}\n", e->message, e->detail), 1;

  const uint64_t seed = std::random_device{}();
  Bench b{stream,  **api, std::move(*timer), timing, std::move(*fill), std::move(*cublas), Runtime(),
          dtype_name == "bf16" ? DType::BF16 : DType::F16, *compiler::parse_arch(*arch_name), std::mt19937_64(seed)};
  b.lt.emplace(std::move(*lt));
  fmt::print("device: {} ({}), seed {}, {} warm-up + {} timed runs, L2 flushed\n", device->name, *arch_name, seed,
             timing.warmup, timing.repetitions);
  int failures = 0;
  nlohmann::json errors = nlohmann::json::array();
  for (const Shape3& s : default_shapes(quick)) {
    const size_t first = b.records.size();
    if (auto ok = bench_shape(b, s, activations); !ok) {
      fmt::print("error at M={} N={} K={}: {}\n{}\n", s.m, s.n, s.k, ok.error().message, ok.error().detail);
      errors.push_back(fmt::format("M={} N={} K={}: {}", s.m, s.n, s.k, ok.error().message));
      ++failures;
    }
    for (size_t i = first; i < b.records.size(); ++i) failures += b.records[i]["correct"].get<bool>() ? 0 : 1;
  }
  nlohmann::json launch_overhead = nlohmann::json::array(), jit = nlohmann::json::array();
  if (!no_host) {
    fmt::print("host costs\n");
    auto launch = measure_launch_overhead(stream, b.cublas, b.dtype);
    auto first_call = measure_jit(stream, b.dtype, {"gelu", "x * tanh(softplus(x))", "swiglu"});
    for (auto* result : {&launch, &first_call})
      if (!*result) {
        fmt::print("error in the host measurements: {}\n", result->error().message);
        errors.push_back(result->error().message);
        ++failures;
      }
    if (launch) launch_overhead = *launch;
    if (first_call) jit = *first_call;
  }
  (*api)->cuStreamDestroy(stream);

  std::filesystem::create_directories(out_dir);
  nlohmann::json report = {{"device", device->name}, {"arch", *arch_name}, {"command", command},
                           {"seed", seed},          {"warmup", timing.warmup}, {"repetitions", timing.repetitions},
                           {"l2_flush_bytes", 256 << 20}, {"records", b.records}, {"errors", errors},
                           {"launch_overhead", launch_overhead}, {"jit", jit}};
  std::ofstream(std::filesystem::path(out_dir) / "results.json") << report.dump(2) << "\n";
  fmt::print("results: {}/results.json ({} records, {} wrong or failed)\n", out_dir, b.records.size(), failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) { return tilefuse::bench::run(argc, argv); }
