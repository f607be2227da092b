// tilefuse_gpu_gemm_check: the fused GEMM on a real GPU against a float64
// host reference (issue 4, item 7). Fresh random data per case (the seed is
// printed; --seed reproduces a run), outputs poisoned with NaN bytes before
// every launch, ‖out − ref‖/‖ref‖ <= 1e-2 and every element within
// |out − ref| <= 1e-2·|ref| + 1e-2·rms(ref), every element written, no padding
// touched, and a second (warm) launch allocates nothing. On a Hopper GPU
// every case runs on both kernels: sm_90a (wgmma) and sm_90 (mma.sync),
// each forced. Writes <out>/results.json and <out>/gemm_check.log
// at the end, and <out>/results.jsonl as it goes: one JSON object per run,
// flushed when the run finishes ("run <case>" is logged before it starts), so
// a run killed by a hang or a timeout still leaves every finished case.
//
// Exit status: 0 all cases passed, 1 some failed, 2 usage error,
// 77 skipped (no CUDA driver or GPU; the reason is printed).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "GemmCases.h"
#include "runtime/Driver.h"
#include "runtime/check/GemmCheck.h"

// Counts C++ heap allocations so that the run can check that a warm launch
// (kernel built and loaded) allocates nothing (a CUDA-graph-safe hot path).
std::atomic<long long> g_allocations{0};

// Every form that allocates with malloc or frees with free is replaced, the
// nothrow and array ones too: a form left to the C++ runtime (or, under
// AddressSanitizer, to ASan's replacements) would pair an allocation of one
// allocator with a release by the other (ASan: alloc-dealloc-mismatch).
void* operator new(std::size_t bytes) {
  ++g_allocations;
  if (void* p = std::malloc(bytes ? bytes : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t bytes) { return operator new(bytes); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(bytes ? bytes : 1);
}
void* operator new[](std::size_t bytes, const std::nothrow_t& tag) noexcept {
  return operator new(bytes, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tilefuse::gpu {
namespace {

constexpr int kExitSkip = 77;

/// Every line goes to stdout and the log file.
class Log {
 public:
  explicit Log(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "w")) {}
  ~Log() {
    if (file_) std::fclose(file_);
  }
  template <typename... Args>
  void line(fmt::format_string<Args...> format, Args&&... args) {
    const std::string text = fmt::format(format, std::forward<Args>(args)...) + "\n";
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    if (file_) {
      std::fputs(text.c_str(), file_);
      std::fflush(file_);
    }
  }

 private:
  std::FILE* file_;
};

/// `arch`: forced (MatmulOptions::arch); unset: the device's choice.
MatmulOptions options_of(const GemmCase& c, std::optional<Arch> arch = std::nullopt) {
  return MatmulOptions{.activation = c.activation, .dtype = c.in, .bias = c.bias, .residual = c.residual,
                       .aux = c.aux, .out_dtype = c.out, .b_col_major = c.b_col_major,
                       .gate_interleave = c.gate_interleave, .precision = c.precision, .tile = c.tile,
                       .arch = arch};
}

/// One case on one kernel: on Hopper each case runs twice, forced to the
/// sm_90a (wgmma) and the sm_90 (mma.sync) kernel; elsewhere once, on the
/// device's architecture.
struct CaseRun {
  std::size_t case_index = 0;
  Arch arch = Arch::Sm80;  ///< what the kernel is built for
  bool forced = false;
  std::string name;
};

std::vector<CaseRun> case_runs(const std::vector<GemmCase>& cases, Arch device_arch) {
  std::vector<CaseRun> runs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (device_arch != Arch::Sm90a) {
      runs.push_back({i, device_arch, false, cases[i].name});
      continue;
    }
    runs.push_back({i, Arch::Sm90a, true, cases[i].name + "@sm_90a"});
    if (!cases[i].sm90a_only) runs.push_back({i, Arch::Sm90, true, cases[i].name + "@sm_90"});
  }
  return runs;
}

nlohmann::json describe(const GemmCase& c) {
  return {{"name", c.name},           {"activation", c.activation},
          {"dtype", compiler::to_string(c.in)}, {"out_dtype", compiler::to_string(c.out)},
          {"M", c.m},                 {"N", c.n},
          {"K", c.k},                 {"batch", c.batch},
          {"b_col_major", c.b_col_major}, {"bias", c.bias},
          {"residual", c.residual},   {"aux", c.aux},
          {"gate_interleave", c.gate_interleave}, {"broadcast_b", c.broadcast_b},
          {"precision", compiler::to_string(c.precision)},
          {"forced_tile", c.tile ? compiler::to_string(*c.tile) : "none"}};
}

/// results.jsonl: the run's header, then one line per finished case, each
/// flushed at once.
class CaseStream {
 public:
  explicit CaseStream(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "w")) {}
  ~CaseStream() {
    if (file_) std::fclose(file_);
  }
  void write(const nlohmann::json& line) {
    if (!file_) return;
    std::fputs((line.dump() + "\n").c_str(), file_);
    std::fflush(file_);
  }

 private:
  std::FILE* file_;
};

/// --filter "a,b": the cases whose name contains any of the comma-separated texts.
bool matches_filter(const std::string& name, const std::string& filter) {
  if (filter.empty()) return true;
  size_t start = 0;
  while (start <= filter.size()) {
    const size_t end = std::min(filter.find(',', start), filter.size());
    const std::string part = filter.substr(start, end - start);
    if (!part.empty() && name.find(part) != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

struct RunContext {
  Log& log;
  CUstream stream;
  const runtime::DriverApi& api;
};

/// Runs one case on one kernel; fills `record`. A driver error after the
/// launch (illegal address, ...) leaves the context unusable: `fatal` stops the run.
void run_case(RunContext& run, const GemmCase& c, const CaseRun& which, const Expected<MatmulOp>& op,
              uint64_t seed, nlohmann::json& record, bool& fatal) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& name = which.name;
  auto fail = [&](const std::string& why) {
    record["passed"] = false;
    record["error"] = why;
    run.log.line("FAIL {}: {}", name, why);
  };
  const bool expect_unsupported = c.unsupported_on_sm90a && which.arch == Arch::Sm90a;
  if (!op && expect_unsupported && op.error().code == ErrorCode::Unsupported) {
    // Refused when the op was made (a forced sm_90a that cannot serve it).
    record["passed"] = true;
    record["expected_unsupported"] = op.error().message;
    run.log.line("ok   {}: Unsupported on sm_90a as expected ({})", name, op.error().message);
    return;
  }
  if (!op) return fail(op.error().message);
  auto program = dsl::resolve(c.activation);
  if (!program) return fail(program.error().message);
  dsl::ParameterValues params;
  for (const auto& [name, value] : c.params) params[name] = value;

  std::mt19937_64 rng(seed);
  const GemmProblem problem = GemmProblem::make(c, op->gated(), rng);
  auto device = DeviceProblem::upload(problem);
  if (!device) return fail(device.error().message);
  if (auto ok = device->poison_outputs(); !ok) return fail(ok.error().message);
  if (CUresult r = run.api.cuCtxSynchronize(); r != CUDA_SUCCESS)
    return fail(runtime::driver_error(run.api, r, "cuCtxSynchronize after poisoning").message);

  if (expect_unsupported) {
    // The launch must refuse before touching the GPU, with Unsupported.
    auto launched = (*op)(run.stream, device->args, c.params);
    if (launched) return fail("expected an Unsupported error on sm_90a, but the launch went ahead");
    if (launched.error().code != ErrorCode::Unsupported)
      return fail("expected Unsupported on sm_90a, got: " + launched.error().message);
    record["passed"] = true;
    record["expected_unsupported"] = launched.error().message;
    run.log.line("ok   {}: Unsupported on sm_90a as expected ({})", name, launched.error().message);
    return;
  }
  if (auto launched = (*op)(run.stream, device->args, c.params); !launched) return fail(launched.error().message);
  if (CUresult r = run.api.cuStreamSynchronize(run.stream); r != CUDA_SUCCESS) {
    fatal = true;
    return fail(runtime::driver_error(run.api, r, "cuStreamSynchronize after the fused GEMM").message);
  }
  // Again, now warm: same result, and no heap allocation in the launch path.
  // This launch's output is the one checked: poisoned again first, so an
  // element it does not write cannot pass for the first launch's.
  if (auto ok = device->poison_outputs(); !ok) return fail(ok.error().message);
  if (CUresult r = run.api.cuCtxSynchronize(); r != CUDA_SUCCESS)
    return fail(runtime::driver_error(run.api, r, "cuCtxSynchronize after poisoning again").message);
  const long long allocations_before = g_allocations.load();
  auto again = (*op)(run.stream, device->args, c.params);
  const long long warm_allocations = g_allocations.load() - allocations_before;
  if (!again) return fail(again.error().message);
  if (CUresult r = run.api.cuStreamSynchronize(run.stream); r != CUDA_SUCCESS) {
    fatal = true;
    return fail(runtime::driver_error(run.api, r, "cuStreamSynchronize after the second launch").message);
  }
  HostTensor d = output_tensor(problem);
  if (auto ok = device->d.download(d.data(), d.size_bytes()); !ok) return fail(ok.error().message);
  std::optional<HostTensor> aux;
  if (c.aux) {
    aux = aux_tensor(problem);
    if (auto ok = device->aux.download(aux->data(), aux->size_bytes()); !ok) return fail(ok.error().message);
  }
  auto result = check_outputs(problem, *program, params, d, aux ? &*aux : nullptr, rng);
  if (!result) return fail(result.error().message);

  const bool ok = passed(*result) && warm_allocations == 0;
  record["passed"] = ok;
  record["kernel_arch"] = compiler::to_string(which.arch);
  record["element_violations"] = result->element_violations;
  record["aux_element_violations"] = result->aux_element_violations;
  record["warm_launch_allocations"] = warm_allocations;
  record["checked"] = result->checked;
  record["sampled"] = result->sampled;
  record["rel_error"] = result->rel_error;
  record["aux_rel_error"] = result->aux_rel_error;
  record["max_abs_error"] = result->max_abs_error;
  record["unwritten"] = result->unwritten;
  record["padding_clobbered"] = result->padding_clobbered;
  record["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.log.line("{} {:<48} rel {:.2e} aux {:.2e} max|e| {:.2e} checked {}{} beyond-bound {}+{} unwritten {} "
               "padding {} allocs {}",
               ok ? "ok  " : "FAIL", name, result->rel_error, result->aux_rel_error, result->max_abs_error,
               result->checked, result->sampled ? " (sampled)" : "", result->element_violations,
               result->aux_element_violations, result->unwritten, result->padding_clobbered, warm_allocations);
}

/// --compile-only: builds every case's kernel for `arch_name` through the
/// public API (NVRTC only, no driver) and checks that none spills.
int compile_cases(std::vector<GemmCase> cases, const std::string& arch_name) {
  auto arch = compiler::parse_arch(arch_name);
  if (!arch) {
    fmt::print(stderr, "error: {}\n", arch.error().message);
    return 2;
  }
  std::erase_if(cases, [&](const GemmCase& c) { return c.sm90a_only && *arch != Arch::Sm90a; });
  Runtime rt;
  int failures = 0;
  for (const GemmCase& c : cases) {
    auto op = rt.matmul(options_of(c));
    auto info = op ? op->compile({c.m, c.n, c.k}, *arch) : Expected<KernelInfo>(op.take_error());
    if (!info && c.unsupported_on_sm90a && *arch == Arch::Sm90a && info.error().code == ErrorCode::Unsupported) {
      fmt::print("ok   {}: Unsupported on sm_90a as expected\n", c.name);
      continue;
    }
    if (!info) {
      ++failures;
      fmt::print("FAIL {}: {}\n", c.name, info.error().message);
      continue;
    }
    const bool ok = info->spill_bytes == 0;
    failures += ok ? 0 : 1;
    fmt::print("{} {} {}: {} registers, {} spill bytes, {} shared bytes, {} threads\n", ok ? "ok  " : "FAIL",
               c.name, compiler::to_string(info->tile), info->registers, info->spill_bytes, info->shared_bytes,
               info->threads);
  }
  fmt::print("{} of {} kernels compiled for {} without spills\n", cases.size() - failures, cases.size(), arch_name);
  return failures == 0 ? 0 : 1;
}

int run(int argc, char** argv) {
  CLI::App app{"tilefuse fused GEMM vs a float64 host reference on the GPU"};
  std::string out_dir;
  std::optional<uint64_t> seed_option;
  bool quick = false, list = false;
  std::string filter;
  app.add_option("--out", out_dir, "directory for results.json and gemm_check.log")->required();
  app.add_option("--seed", seed_option, "random seed (default: fresh, printed)");
  app.add_flag("--quick", quick, "small shapes only (for compute-sanitizer)");
  app.add_option("--filter", filter,
                 "run only cases whose name contains this text (several: comma-separated, any matches)");
  app.add_flag("--list", list, "print the case names and exit");
  std::string compile_only;
  app.add_option("--compile-only", compile_only,
                 "no GPU needed: compile every case's kernel for this arch (sm_80, ..., sm_90, sm_90a), check 0 spills, "
                 "exit 0/1");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::vector<GemmCase> cases;
  for (GemmCase& c : gemm_check_cases(quick))
    if (matches_filter(c.name, filter)) cases.push_back(std::move(c));
  if (list) {
    for (const GemmCase& c : cases) fmt::print("{}\n", c.name);
    return 0;
  }
  if (!compile_only.empty()) return compile_cases(cases, compile_only);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  Log log(std::filesystem::path(out_dir) / "gemm_check.log");

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  log.line("command: {}", command);

  auto api = runtime::driver();
  if (!api) {
    log.line("SKIPPED: {} (tilefuse_gpu_gemm_check needs a CUDA driver and an NVIDIA GPU)", api.error().message);
    return kExitSkip;
  }
  auto count = runtime::device_count();
  if (!count || *count == 0) {
    log.line("SKIPPED: {}", count ? "the CUDA driver reports no GPU" : count.error().message);
    return kExitSkip;
  }
  auto device = runtime::query_device(0);
  if (!device) {
    log.line("error: {}", device.error().message);
    return 1;
  }
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) {
    log.line("SKIPPED: {}", arch_name.error().message);
    return kExitSkip;
  }
  const Arch arch = *compiler::parse_arch(*arch_name);
  // Cases with forced warpgroup tiles exist only for the sm_90a mainloop.
  const size_t all_cases = cases.size();
  std::erase_if(cases, [&](const GemmCase& c) { return c.sm90a_only && arch != Arch::Sm90a; });
  const uint64_t seed = seed_option.value_or(std::random_device{}() * 0x9E3779B97F4A7C15ULL ^ std::random_device{}());
  log.line("device: {} (sm_{}{}, {} SMs), kernels for {}", device->name, device->compute_major,
           device->compute_minor, device->sm_count, *arch_name);
  log.line("seed: {} (reproduce with --seed {})", seed, seed);
  log.line("cases: {}{} ({} sm_90a-only cases left out on {})", cases.size(), quick ? " (quick)" : "",
           all_cases - cases.size(), *arch_name);

  const std::vector<CaseRun> runs = case_runs(cases, arch);
  if (arch == Arch::Sm90a) log.line("runs: {} (every case on sm_90a and, unless sm_90a-only, on sm_90)", runs.size());

  // Create and compile every run's kernel first, on all cores.
  Runtime rt;
  std::vector<Expected<MatmulOp>> ops;
  for (const CaseRun& r : runs)
    ops.push_back(rt.matmul(options_of(cases[r.case_index], r.forced ? std::optional<Arch>(r.arch) : std::nullopt)));
  const auto compile_start = std::chrono::steady_clock::now();
  {
    std::vector<std::future<void>> compiles;
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!ops[i]) continue;
      compiles.push_back(std::async(std::launch::async, [&, i] {
        const GemmCase& c = cases[runs[i].case_index];
        (void)ops[i]->compile({c.m, c.n, c.k}, runs[i].arch);  // errors show at launch
      }));
      if (compiles.size() >= threads) {
        for (auto& f : compiles) f.get();
        compiles.clear();
      }
    }
    for (auto& f : compiles) f.get();
  }
  log.line("compiled {} kernels in {:.1f} s", runs.size(),
           std::chrono::duration<double>(std::chrono::steady_clock::now() - compile_start).count());

  auto context = runtime::make_context_current(0);
  if (!context) {
    log.line("error: {}", context.error().message);
    return 1;
  }
  CUstream stream = nullptr;
  if (CUresult r = (*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT); r != CUDA_SUCCESS) {
    log.line("error: {}", runtime::driver_error(**api, r, "cuStreamCreate").message);
    return 1;
  }
  RunContext run_context{log, stream, **api};
  CaseStream stream_out(std::filesystem::path(out_dir) / "results.jsonl");
  stream_out.write({{"device", device->name}, {"arch", *arch_name}, {"seed", seed}, {"command", command},
                    {"cases", cases.size()}, {"runs", runs.size()}});
  nlohmann::json records = nlohmann::json::array();
  int failures = 0;
  bool fatal = false;
  for (size_t i = 0; i < runs.size(); ++i) {
    const GemmCase& c = cases[runs[i].case_index];
    nlohmann::json record = describe(c);
    record["run"] = runs[i].name;
    if (fatal) {
      record["passed"] = false;
      record["error"] = "not run: an earlier case left the CUDA context unusable";
    } else {
      if (ops[i]) {
        if (auto info = ops[i]->compile({c.m, c.n, c.k}, runs[i].arch)) record["tile"] = compiler::to_string(info->tile);
      }
      log.line("run  {}", runs[i].name);
      run_case(run_context, c, runs[i], ops[i], seed + runs[i].case_index, record, fatal);
    }
    stream_out.write(record);
    if (!record["passed"].get<bool>()) ++failures;
    records.push_back(std::move(record));
  }
  (*api)->cuStreamDestroy(stream);

  nlohmann::json report = {{"device", device->name},
                           {"compute_capability", fmt::format("{}.{}", device->compute_major, device->compute_minor)},
                           {"arch", *arch_name},
                           {"seed", seed},
                           {"command", command},
                           {"rel_error_bound", kRelErrorBound},
                           {"element_bound", {{"rtol", ElementBound{}.rtol}, {"atol_times_rms_ref", ElementBound{}.atol}}},
                           {"passed", static_cast<int>(runs.size()) - failures},
                           {"failed", failures},
                           {"cases", records}};
  std::ofstream(std::filesystem::path(out_dir) / "results.json") << report.dump(2) << "\n";
  log.line("{} of {} runs passed; results in {}", runs.size() - failures, runs.size(), out_dir);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tilefuse::gpu

int main(int argc, char** argv) { return tilefuse::gpu::run(argc, argv); }
