// tilefuse_bench_fp8: the FP8 fused GEMM + activation against cuBLASLt FP8
// in one run on one GPU (issue 16, item 6). torch._scaled_mm is measured by
// bench/peers/fp8_peers.py; bench/peers/report.py merges both.
//
// A (M x K) and W (N x K, PyTorch Linear layout) are fresh random e4m3 data
// (never zero); FP32 accumulation; per scaling (records' "scaling"):
//   tensor    one float each for A and B (device pointers)
//   row       per-row sa (M) x per-column sb (N): tilefuse through its
//             row/column inputs, activation "act(x * sa * sb)"
//   block128  DeepSeek-V3 128-blocks (scale_a [ceil(K/128)][M], scale_b
//             [ceil(N/128)][ceil(K/128)])
// impls:
//   "tilefuse"              the fused kernel, bf16 out; with --fp8-out also
//                           e4m3 out (scale_d) with amax (tensor scaling)
//   "cublaslt_fp8"          cuBLASLt FP8 GEMM, activation "none" (the ceiling)
//   "cublaslt_fp8_fast_accum"  the same with CUBLASLT_MATMUL_DESC_FAST_ACCUM
//                           (no promotion of partial sums: faster, less exact)
//   "cublaslt_fp8+act"      the same + a separate activation kernel (bf16 in
//                           and out: bench/gemm/BenchKernels.h)
//   "cublaslt_fp8_epilogue" cuBLASLt FP8 with its GELU epilogue (tanh form:
//                           activation "gelu_tanh" only)
// A combination that one side lacks (cuBLASLt without an algorithm for a
// scaling, the tilefuse FP8 kernel not yet on sm_90a, ...) is listed under
// "not_run" with the reason, and printed; it does not fail the run. On
// sm_90a, if the wgmma FP8 kernel is Unsupported, the mma.sync sm_90 kernel
// is measured instead (record field "arch").
//
// Timing and checks as bench/gemm: CUDA events after warm-up, L2 flushed
// before every repetition, median; each output checked once against a
// float64 reference on sampled rows x columns (bench/fp8/Fp8Check.h); an FP8
// output's amax against the exact max |D| of the same computation in bf16
// (relative 2^-8, the bf16 rounding). Writes <out>/results.json in the
// records format of bench/gemm (dtype "e4m3", plus scaling, out_dtype, arch,
// amax_rel_error) with not_run and errors lists, rewritten after every shape.
// Exit 77 without a GPU or below sm_89 (no FP8 tensor cores).
// --compile-only ARCH needs no GPU: it compiles the helper kernels and every
// tilefuse variant of the selection (ctest bench_fp8_compile, sm_90a --quick).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>
#include <fstream>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/fp8/Fp8Harness.h"
#include "runtime/Driver.h"

namespace tilefuse::bench {
namespace {

constexpr int kExitSkip = 77;

/// The LLM shapes of docs/performance.md (bench/peers/workload.py's order).
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

/// --compile-only ARCH (no GPU needed): compiles the benchmark's helper
/// kernels and every tilefuse kernel the run would launch (each variant at
/// each shape), one line per variant and shape; exit 1 if any fails
/// (Unsupported on sm_90a with the sm_90 fallback compiled counts as
/// compiled, said so).
int compile_only(const Selection& sel, const std::vector<Shape3>& shapes, Arch arch) {
  int failures = 0;
  if (auto ok = Fp8Kernels::compile(to_string(arch)); !ok) {
    fmt::print("FAILED bench helper kernels ({}): {}\n{}\n", to_string(arch), ok.error().message, ok.error().detail);
    ++failures;
  } else {
    fmt::print("compiled bench helper kernels (fill_e4m3, max_abs_bf16) for {}\n", to_string(arch));
  }
  Runtime rt;
  const auto work = compile_jobs(shapes, sel);
  const auto started = std::chrono::steady_clock::now();
  const auto results = compile_all(rt, work, arch, std::max(1u, std::thread::hardware_concurrency()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int compiled = 0;
  for (size_t i = 0; i < work.size(); ++i) {
    const Variant& v = work[i].variant;
    const Shape3& s = work[i].shape;
    const std::string what = fmt::format("tilefuse {} ({}, {} out) at {}x{}x{}", tilefuse_expression(v.activation, v.scaling),
                                         to_string(v.scaling), v.fp8_out ? "e4m3" : "bf16", s.m, s.n, s.k);
    if (!results[i]) {
      fmt::print("FAILED {} for {}: {}\n{}\n", what, to_string(arch), results[i].error().message,
                 results[i].error().detail);
      ++failures;
      continue;
    }
    const KernelInfo& info = results[i]->info;
    compiled += info.cache_hit ? 0 : 1;
    fmt::print("compiled {} for {}: {} registers, {} spill bytes{}, tile {}{}{}\n", what, info.arch, info.registers,
               info.spill_bytes, info.spill_bytes > 0 ? " (SPILLS: local memory in the mainloop will cost speed)" : "",
               to_string(info.tile), info.cache_hit ? " (cache hit)" : "",
               results[i]->sm90a_unsupported ? " (sm_90a: " + results[i]->sm90a_unsupported->message + ")" : "");
  }
  fmt::print("{} variant x shape pairs, {} kernels compiled (the rest cache hits) in {:.1f} s, {} failed\n",
             work.size(), compiled, seconds, failures);
  return failures == 0 ? 0 : 1;
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

int run(int argc, char** argv) {
  CLI::App app{"tilefuse FP8 fused GEMM + activation vs cuBLASLt FP8 (plain, + activation, GELU epilogue)"};
  std::string out_dir;
  Selection sel{{"gelu", "gelu_tanh", "silu"}, {}};
  std::vector<std::string> scaling_names = {"tensor", "row", "block128"};
  TimingOptions timing;
  bool quick = false, no_fp8_out = false;
  std::string compile_arch;
  app.add_option("--out", out_dir, "output directory (default bench/results/<gpu>-<date>-fp8)");
  app.add_option("--activations", sel.activations, "activations to fuse (gelu_tanh also runs cuBLASLt's GELU epilogue)");
  app.add_option("--scalings", scaling_names, "tensor, row, block128")
      ->check(CLI::IsMember({"tensor", "row", "block128"}));
  app.add_option("--reps", timing.repetitions, "timed repetitions per measurement (median)");
  app.add_option("--warmup", timing.warmup, "untimed runs first");
  app.add_flag("--quick", quick, "3 shapes (bench/peers/workload.py's quick list), gelu and gelu_tanh");
  app.add_flag("--no-fp8-out", no_fp8_out, "skip the e4m3-output (scale_d, amax) measurements");
  app.add_option("--compile-only", compile_arch,
                 "compile the helper kernels and every tilefuse variant for this architecture (sm_89, sm_90, "
                 "sm_90a) and exit; no GPU needed");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (quick && app.count("--activations") == 0) sel.activations = {"gelu", "gelu_tanh"};
  for (const std::string& name : scaling_names)
    sel.scalings.push_back(name == "tensor" ? Fp8Scaling::PerTensor
                           : name == "row"  ? Fp8Scaling::RowWise
                                            : Fp8Scaling::Block128);
  sel.fp8_out = !no_fp8_out;
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  if (!compile_arch.empty()) {
    auto arch = parse_arch(compile_arch);
    if (!arch) return fmt::print("error: --compile-only: {}\n", arch.error().message), 2;
    return compile_only(sel, default_shapes(quick), *arch);
  }

  auto api = runtime::driver();
  if (!api) {
    fmt::print("SKIPPED: {} (tilefuse_bench_fp8 needs a CUDA driver and an NVIDIA GPU)\n", api.error().message);
    return kExitSkip;
  }
  auto count = runtime::device_count();
  if (!count || *count == 0) {
    fmt::print("SKIPPED: {}\n", count ? "the CUDA driver reports no GPU" : count.error().message);
    return kExitSkip;
  }
  auto device = runtime::query_device(0);
  if (!device) return fmt::print("error: {}\n", device.error().message), 1;
  if (device->compute_major * 10 + device->compute_minor < 89) {
    fmt::print("SKIPPED: {} is sm_{}{}: FP8 tensor cores need sm_89 or newer\n", device->name, device->compute_major,
               device->compute_minor);
    return kExitSkip;
  }
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) return fmt::print("SKIPPED: {}\n", arch_name.error().message), kExitSkip;
  if (out_dir.empty()) out_dir = fmt::format("bench/results/{}-{}-fp8", slug(device->name), today());

  auto context = runtime::make_context_current(0);
  if (!context) return fmt::print("error: {}\n", context.error().message), 1;
  CUstream stream = nullptr;
  if (CUresult r = (*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT); r != CUDA_SUCCESS)
    return fmt::print("error: {}\n", runtime::driver_error(**api, r, "cuStreamCreate").message), 1;
  auto timer = EventTimer::create(stream);
  auto kernels = Fp8Kernels::load(*arch_name);
  auto lt = CublasLtFp8::create();
  for (const Error* e : {timer ? nullptr : &timer.error(), kernels ? nullptr : &kernels.error(),
                         lt ? nullptr : &lt.error()})
    if (e) return fmt::print("error: {}\n{}\n", e->message, e->detail), 1;

  const uint64_t seed = std::random_device{}();
  Bench b{stream, **api, std::move(*timer), timing, std::move(*kernels), std::move(*lt), Runtime(),
          *parse_arch(*arch_name), std::mt19937_64(seed)};
  fmt::print("device: {} ({}), seed {}, {} warm-up + {} timed runs, L2 flushed\n", device->name, *arch_name, seed,
             timing.warmup, timing.repetitions);
  // Rewritten after every shape (temp file + rename): a run cut off by its
  // time limit still leaves the shapes it finished.
  std::filesystem::create_directories(out_dir);
  auto save = [&] {
    nlohmann::json report = {{"device", device->name}, {"arch", *arch_name}, {"command", command},
                             {"seed", seed},          {"warmup", timing.warmup}, {"repetitions", timing.repetitions},
                             {"l2_flush_bytes", 256 << 20}, {"records", b.records}, {"not_run", b.not_run},
                             {"errors", b.errors}};
    const auto path = std::filesystem::path(out_dir) / "results.json";
    std::ofstream(path.string() + ".tmp") << report.dump(2) << "\n";
    std::filesystem::rename(path.string() + ".tmp", path);
  };
  // Every tilefuse kernel up front, on all host cores (a failure is reported
  // again, per row, when its variant is measured).
  const auto compile_started = std::chrono::steady_clock::now();
  const auto work = compile_jobs(default_shapes(quick), sel);
  const auto compiled = compile_all(b.rt, work, b.arch, std::max(1u, std::thread::hardware_concurrency()));
  fmt::print("compiled {} tilefuse variant x shape pairs in {:.1f} s ({} failed: see their rows)\n", work.size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - compile_started).count(),
             std::count_if(compiled.begin(), compiled.end(), [](const auto& c) { return !c; }));
  for (const Shape3& s : default_shapes(quick)) {
    if (auto ok = bench_shape(b, s, sel); !ok) {
      fmt::print("error at M={} N={} K={}: {}\n{}\n", s.m, s.n, s.k, ok.error().message, ok.error().detail);
      b.errors.push_back(fmt::format("M={} N={} K={}: {}", s.m, s.n, s.k, ok.error().message));
    }
    save();
  }
  (*api)->cuStreamDestroy(stream);

  int wrong = 0;
  for (const auto& r : b.records) wrong += r["correct"].get<bool>() ? 0 : 1;
  fmt::print("results: {}/results.json ({} records, {} wrong, {} not run, {} errors)\n", out_dir, b.records.size(),
             wrong, b.not_run.size(), b.errors.size());
  return wrong == 0 && b.errors.empty() ? 0 : 1;
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) { return tilefuse::bench::run(argc, argv); }
