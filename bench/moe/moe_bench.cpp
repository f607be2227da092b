// tilefuse_bench_moe (issue 15 item 7): the two GEMMs of a mixture-of-experts
// FFN layer, for the experts of Mixtral-8x7B, Qwen3-30B-A3B and DeepSeek-V3
// at 128, 1024 and 8192 tokens with seeded top-k routing (balanced and
// skewed, bench/moe/MoeWorkload.h), timed in one run on one GPU:
//
//   tilefuse_grouped     ONE launch per GEMM for all experts (contiguous
//                        layout, offsets on the device): h = silu(A·W_gate[e]ᵀ) ⊙
//                        A·W_up[e]ᵀ, then y = (h·W_down[e]ᵀ) * route (row input)
//   tilefuse_per_expert  the same fused ops without grouping: one dense launch
//                        per non-empty expert and GEMM (peer (a) of the issue)
//   cublas_dense         one cuBLAS GEMM of all T rows against one weight of
//                        the same width (2·hidden, then d_model): the dense
//                        TFLOP/s the grouped GEMM is held to (>= 0.9x at
//                        balanced routing with >= 512 rows per expert)
//
// torch._grouped_mm + silu·mul and a Triton grouped GEMM are timed by
// bench/peers/moe_peers.py on the group sizes this run writes; moe_report.py
// merges both into one table with the targets.
//
// CUDA events, cold L2 per repetition, median (bench/gemm/EventTimer). Every
// timed output is checked on sampled rows against float64 (the row's expert
// found from the offsets, silu·mul and the route weight applied).
// <out>/results.json: {device, arch, command, seed, records: [{impl, activation,
// M, N, K, dtype, ms, tflops, correct, rel_error, model, tokens, routing,
// stage, experts, top_k}], cases: [{model, tokens, routing, group_sizes, ...}],
// errors}; the records have the fields of tilefuse_bench_gemm's.
// Exit status: 0 all correct, 1 otherwise, 77 without a GPU.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../gemm/BenchKernels.h"
#include "../gemm/CublasGemm.h"
#include "../gemm/EventTimer.h"
#include "MoeCheck.h"
#include "MoeWorkload.h"
#include "runtime/Driver.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {
namespace {

constexpr int kExitSkip = 77;
constexpr const char* kGateUp = "silu(gate) * up";
constexpr const char* kDown = "x * route";

double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::gmtime(&now));
  return buffer;
}

struct Bench {
  CUstream stream;
  EventTimer timer;
  TimingOptions timing;
  RandomFill fill;
  CublasGemm cublas;
  Runtime rt;
  MatmulOp grouped_gate_up, grouped_down, dense_gate_up, dense_down;
  std::mt19937_64 rng;
  nlohmann::json records = nlohmann::json::array();
  int failures = 0;
};

Expected<Case> make_case(Bench& b, const MoeModel& model, long long tokens, Routing routing, std::uint64_t seed) {
  Case c;
  c.model = model;
  c.tokens = tokens;
  c.routing = routing;
  c.rows = tokens * model.top_k;
  c.counts = route_counts(model, tokens, routing, seed);
  c.offsets = offsets_of(c.counts);
  std::uniform_real_distribution<float> weight(0.05f, 0.5f);
  c.route.resize(static_cast<std::size_t>(c.rows));
  for (float& w : c.route) w = weight(b.rng);
  const long long e = model.experts, d = model.d_model, hid = model.hidden;
  struct Alloc {
    gpu::DeviceBuffer* buffer;
    long long bytes;
  };
  for (auto [buffer, bytes] : {Alloc{&c.a, c.rows * d * 2}, Alloc{&c.w_gate, e * hid * d * 2},
                               Alloc{&c.w_up, e * hid * d * 2}, Alloc{&c.w_down, e * d * hid * 2},
                               Alloc{&c.d_offsets, (e + 1) * 4}, Alloc{&c.d_route, c.rows * 4},
                               Alloc{&c.h, c.rows * hid * 2}, Alloc{&c.y, c.rows * d * 2}}) {
    auto allocated = gpu::DeviceBuffer::allocate(static_cast<std::size_t>(bytes));
    if (!allocated) return allocated.take_error();
    *buffer = std::move(*allocated);
  }
  const float w_in = 2.0f / std::sqrt(float(d)), w_hidden = 2.0f / std::sqrt(float(hid));
  for (auto [buffer, n, scale] : {std::tuple{&c.a, c.rows * d, 1.0f}, std::tuple{&c.w_gate, e * hid * d, w_in},
                                  std::tuple{&c.w_up, e * hid * d, w_in}, std::tuple{&c.w_down, e * d * hid, w_hidden}})
    if (auto ok = b.fill.run(b.stream, buffer->get(), n, b.rng(), scale, DType::BF16); !ok) return ok.take_error();
  if (auto ok = c.d_offsets.upload(c.offsets.data(), c.offsets.size() * 4); !ok) return ok.take_error();
  if (auto ok = c.d_route.upload(c.route.data(), c.route.size() * 4); !ok) return ok.take_error();
  return c;
}

MatmulArgs grouped_gate_up_args(const Case& c) {
  MatmulArgs args{.a = c.a.get(), .b = c.w_gate.get(), .b_up = c.w_up.get(), .d = c.h.get(),
                  .shape = {c.rows, c.model.hidden, c.model.d_model}};
  args.groups = c.model.experts;
  args.group_offsets = static_cast<const int*>(c.d_offsets.get());
  return args;
}

MatmulArgs grouped_down_args(const Case& c) {
  MatmulArgs args{.a = c.h.get(), .b = c.w_down.get(), .d = c.y.get(), .shape = {c.rows, c.model.d_model, c.model.hidden}};
  args.groups = c.model.experts;
  args.group_offsets = static_cast<const int*>(c.d_offsets.get());
  args.row_inputs[0] = static_cast<const float*>(c.d_route.get());
  return args;
}

/// Peer (a): the same fused ops, one dense launch per non-empty expert.
Expected<void> per_expert(Bench& b, const Case& c, bool gate_up) {
  const long long d = c.model.d_model, hid = c.model.hidden;
  for (int e = 0; e < c.model.experts; ++e) {
    const long long first = c.offsets[e], rows = c.counts[e];
    if (rows == 0) continue;
    MatmulArgs args;
    if (gate_up) {
      args = {.a = static_cast<const char*>(c.a.get()) + first * d * 2,
              .b = static_cast<const char*>(c.w_gate.get()) + e * hid * d * 2,
              .b_up = static_cast<const char*>(c.w_up.get()) + e * hid * d * 2,
              .d = static_cast<char*>(c.h.get()) + first * hid * 2,
              .shape = {rows, hid, d}};
      if (auto ok = b.dense_gate_up(b.stream, args); !ok) return ok;
    } else {
      args = {.a = static_cast<const char*>(c.h.get()) + first * hid * 2,
              .b = static_cast<const char*>(c.w_down.get()) + e * d * hid * 2,
              .d = static_cast<char*>(c.y.get()) + first * d * 2,
              .shape = {rows, d, hid}};
      args.row_inputs[0] = static_cast<const float*>(c.d_route.get()) + first;
      if (auto ok = b.dense_down(b.stream, args); !ok) return ok;
    }
  }
  return {};
}

void record(Bench& b, const Case& c, const char* impl, const char* stage, const char* activation, long long n,
            long long k, double ms, double flops, double rel_error) {
  const bool correct = rel_error <= 1e-2;
  if (!correct) ++b.failures;
  fmt::print("  {:<20} {:<8} {:>9.3f} ms {:>7.1f} TFLOP/s  rel err {:.2e}{}\n", impl, stage, ms, tflops(flops, ms),
             rel_error, correct ? "" : "  WRONG");
  b.records.push_back({{"impl", impl}, {"activation", activation}, {"M", c.rows}, {"N", n}, {"K", k},
                       {"dtype", "bf16"}, {"ms", ms}, {"tflops", tflops(flops, ms)}, {"correct", correct},
                       {"rel_error", rel_error}, {"model", c.model.name}, {"tokens", c.tokens},
                       {"routing", to_string(c.routing)}, {"stage", stage}, {"experts", c.model.experts},
                       {"top_k", c.model.top_k}});
}

void record_error(Bench& b, const Case& c, const char* impl, const char* stage, const Error& error) {
  ++b.failures;
  fmt::print("  {:<20} {:<8} error: {}\n", impl, stage, error.message);
  b.records.push_back({{"impl", impl}, {"model", c.model.name}, {"tokens", c.tokens}, {"routing", to_string(c.routing)},
                       {"stage", stage}, {"error", error.message}});
}

/// Times `launch` (poisoning `out` first), checks `out`, records it; the time or nullopt.
std::optional<double> measure(Bench& b, Case& c, const char* impl, const char* stage, bool gate_up,
                              const std::function<Expected<void>()>& launch) {
  gpu::DeviceBuffer& out = gate_up ? c.h : c.y;
  if (auto ok = out.fill(0xFF); !ok) return record_error(b, c, impl, stage, ok.error()), std::nullopt;
  auto ms = b.timer.median_ms(launch, b.timing);
  if (!ms) return record_error(b, c, impl, stage, ms.error()), std::nullopt;
  Checker check{b.rng};
  auto error = gate_up ? check.gate_up(c) : check.down(c);
  if (!error) return record_error(b, c, impl, stage, error.error()), std::nullopt;
  const long long n = gate_up ? c.model.hidden : c.model.d_model, k = gate_up ? c.model.d_model : c.model.hidden;
  const double flops = 2.0 * c.rows * n * k * (gate_up ? 2 : 1);
  record(b, c, impl, stage, gate_up ? "swiglu" : kDown, n, k, *ms, flops, *error);
  return *ms;
}

void bench_case(Bench& b, Case& c) {
  const long long d = c.model.d_model, hid = c.model.hidden;
  const int largest = *std::max_element(c.counts.begin(), c.counts.end());
  fmt::print("{} {} tokens, {} routing: {} rows, {} per expert on average, largest group {}\n", c.model.name, c.tokens,
             to_string(c.routing), c.rows, c.rows / c.model.experts, largest);
  // Stage order matters: the down GEMM reads the h the gate/up GEMM left.
  auto grouped_gu = measure(b, c, "tilefuse_grouped", "gate_up", true,
                            [&] { return b.grouped_gate_up(b.stream, grouped_gate_up_args(c)); });
  auto grouped_dn = measure(b, c, "tilefuse_grouped", "down", false,
                            [&] { return b.grouped_down(b.stream, grouped_down_args(c)); });
  auto dense_gu = measure(b, c, "tilefuse_per_expert", "gate_up", true, [&] { return per_expert(b, c, true); });
  auto dense_dn = measure(b, c, "tilefuse_per_expert", "down", false, [&] { return per_expert(b, c, false); });
  // The dense ceiling: all T rows against one weight of the same width (the
  // first 2·hidden rows of W_gate are experts 0 and 1: any bf16 data will do).
  for (bool gate_up : {true, false}) {
    const long long n = gate_up ? 2 * hid : d, k = gate_up ? d : hid;
    const gpu::DeviceBuffer& in = gate_up ? c.a : c.h;
    const gpu::DeviceBuffer& w = gate_up ? c.w_gate : c.w_down;
    const char* stage = gate_up ? "gate_up" : "down";
    auto scratch = gpu::DeviceBuffer::allocate(static_cast<std::size_t>(c.rows * n * 2));
    if (!scratch) {
      record_error(b, c, "cublas_dense", stage, scratch.error());
      continue;
    }
    if (auto ok = scratch->fill(0xFF); !ok) {
      record_error(b, c, "cublas_dense", stage, ok.error());
      continue;
    }
    auto ms = b.timer.median_ms([&] { return b.cublas.run(b.stream, in.get(), w.get(), scratch->get(), c.rows, n, k, DType::BF16); },
                                b.timing);
    if (!ms) {
      record_error(b, c, "cublas_dense", stage, ms.error());
      continue;
    }
    auto error = Checker{b.rng}.dense(c, in, w, *scratch, n, k);
    if (!error) {
      record_error(b, c, "cublas_dense", stage, error.error());
      continue;
    }
    record(b, c, "cublas_dense", stage, "none", n, k, *ms, 2.0 * c.rows * n * k, *error);
  }
  if (grouped_gu && grouped_dn && dense_gu && dense_dn)
    fmt::print("  -> layer: grouped {:.3f} ms, per-expert launches {:.3f} ms ({:.2f}x)\n", *grouped_gu + *grouped_dn,
               *dense_gu + *dense_dn, (*dense_gu + *dense_dn) / (*grouped_gu + *grouped_dn));
}

struct CaseSpec {
  MoeModel model;
  long long tokens;
  Routing routing;
};

/// Every model at 128, 1024 and 8192 tokens, both routings; --quick: Qwen3 at
/// 1024 tokens (both routings: 64 rows per expert), Mixtral at 8192 balanced
/// (2048 rows per expert: the dense-TFLOP/s target's regime).
std::vector<CaseSpec> case_specs(bool quick) {
  const std::vector<MoeModel> models = moe_models();
  std::vector<CaseSpec> specs;
  if (quick) {
    specs.push_back({models[1], 1024, Routing::Balanced});
    specs.push_back({models[1], 1024, Routing::Skewed});
    specs.push_back({models[0], 8192, Routing::Balanced});
    return specs;
  }
  for (const MoeModel& model : models)
    for (long long tokens : {128LL, 1024LL, 8192LL})
      for (Routing routing : {Routing::Balanced, Routing::Skewed}) specs.push_back({model, tokens, routing});
  return specs;
}

nlohmann::json case_json(const CaseSpec& spec, const std::vector<int>& counts) {
  return {{"model", spec.model.name}, {"experts", spec.model.experts}, {"top_k", spec.model.top_k},
          {"d_model", spec.model.d_model}, {"hidden", spec.model.hidden}, {"tokens", spec.tokens},
          {"routing", to_string(spec.routing)}, {"rows", spec.tokens * spec.model.top_k}, {"group_sizes", counts}};
}

int run(int argc, char** argv) {
  CLI::App app{"tilefuse grouped (MoE) GEMM benchmark (issue 15 item 7)"};
  std::string out_dir;
  bool quick = false, print_cases = false;
  std::uint64_t seed = 15;
  TimingOptions timing;
  app.add_option("--out", out_dir, "output directory (default bench/results/<gpu>-<date>-moe)");
  app.add_flag("--quick", quick, "Qwen3 at 1024 tokens (balanced, skewed) and Mixtral at 8192 (balanced)");
  app.add_option("--seed", seed, "routing seed of the skewed cases (default 15)");
  app.add_option("--reps", timing.repetitions, "timed repetitions per measurement (median)");
  app.add_option("--warmup", timing.warmup, "untimed runs first");
  app.add_flag("--print-cases", print_cases, "print the cases and their group sizes as JSON, then exit (no GPU needed)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  const std::vector<CaseSpec> specs = case_specs(quick);
  if (print_cases) {
    // Also the routing's self-check (ctest bench_moe_cases): every case routes
    // tokens x top_k rows, no expert gets more rows than there are tokens.
    nlohmann::json cases = nlohmann::json::array();
    int wrong = 0;
    for (const CaseSpec& spec : specs) {
      const std::vector<int> counts = route_counts(spec.model, spec.tokens, spec.routing, seed);
      const long long total = std::accumulate(counts.begin(), counts.end(), 0LL);
      const int largest = *std::max_element(counts.begin(), counts.end());
      if (total != spec.tokens * spec.model.top_k || largest > spec.tokens || *std::min_element(counts.begin(), counts.end()) < 0) {
        fmt::print(stderr, "error: {} {} tokens {}: {} rows routed (expected {}), largest group {}\n", spec.model.name,
                   spec.tokens, to_string(spec.routing), total, spec.tokens * spec.model.top_k, largest);
        ++wrong;
      }
      cases.push_back(case_json(spec, counts));
    }
    fmt::print("{}\n", cases.dump(1));
    return wrong ? 1 : 0;
  }

  auto api = runtime::driver();
  if (!api) return fmt::print("SKIPPED: {} (tilefuse_bench_moe needs a CUDA driver and a GPU)\n", api.error().message), kExitSkip;
  auto count = runtime::device_count();
  if (!count || *count == 0) return fmt::print("SKIPPED: no GPU\n"), kExitSkip;
  auto device = runtime::query_device(0);
  if (!device) return fmt::print("error: {}\n", device.error().message), 1;
  auto arch_name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!arch_name) return fmt::print("SKIPPED: {}\n", arch_name.error().message), kExitSkip;
  if (out_dir.empty()) {
    std::string slug = device->name;
    for (char& ch : slug)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '-';
    out_dir = fmt::format("bench/results/{}-{}-moe", slug, today());
  }
  auto context = runtime::make_context_current(0);
  if (!context) return fmt::print("error: {}\n", context.error().message), 1;
  CUstream stream = nullptr;
  if ((*api)->cuStreamCreate(&stream, CU_STREAM_DEFAULT) != CUDA_SUCCESS) return fmt::print("error: cuStreamCreate\n"), 1;
  auto timer = EventTimer::create(stream);
  auto fill = RandomFill::load(*arch_name);
  auto cublas = CublasGemm::create();
  Runtime rt;
  using GL = GroupLayout;
  auto grouped_gate_up = rt.matmul({.activation = kGateUp, .b_col_major = true, .grouped = GL::Contiguous});
  auto grouped_down = rt.matmul({.activation = kDown, .row_inputs = {"route"}, .b_col_major = true, .grouped = GL::Contiguous});
  auto dense_gate_up = rt.matmul({.activation = kGateUp, .b_col_major = true});
  auto dense_down = rt.matmul({.activation = kDown, .row_inputs = {"route"}, .b_col_major = true});
  for (const Error* e : {timer ? nullptr : &timer.error(), fill ? nullptr : &fill.error(), cublas ? nullptr : &cublas.error(),
                         grouped_gate_up ? nullptr : &grouped_gate_up.error(), grouped_down ? nullptr : &grouped_down.error(),
                         dense_gate_up ? nullptr : &dense_gate_up.error(), dense_down ? nullptr : &dense_down.error()})
    if (e) return fmt::print("error: {}\n{}\n", e->message, e->detail), 1;

  Bench b{stream, std::move(*timer), timing, std::move(*fill), std::move(*cublas), rt, *grouped_gate_up, *grouped_down,
          *dense_gate_up, *dense_down, std::mt19937_64(seed)};
  fmt::print("device: {} ({}), routing seed {}, {} warm-up + {} timed runs, L2 flushed\n", device->name, *arch_name, seed,
             timing.warmup, timing.repetitions);
  nlohmann::json cases = nlohmann::json::array(), errors = nlohmann::json::array();
  for (const CaseSpec& spec : specs) {
    auto c = make_case(b, spec.model, spec.tokens, spec.routing, seed);
    if (!c) {
      fmt::print("error: {} {} tokens: {}\n", spec.model.name, spec.tokens, c.error().message);
      errors.push_back(fmt::format("{} {} tokens {}: {}", spec.model.name, spec.tokens, to_string(spec.routing), c.error().message));
      ++b.failures;
      continue;
    }
    cases.push_back(case_json(spec, c->counts));
    bench_case(b, *c);
  }
  (*api)->cuStreamDestroy(stream);
  std::filesystem::create_directories(out_dir);
  const nlohmann::json report = {{"device", device->name}, {"arch", *arch_name}, {"command", command},
                                 {"seed", seed}, {"warmup", timing.warmup}, {"repetitions", timing.repetitions},
                                 {"l2_flush_bytes", 256 << 20}, {"records", b.records}, {"cases", cases},
                                 {"errors", errors}};
  std::ofstream(std::filesystem::path(out_dir) / "results.json") << report.dump(2) << "\n";
  fmt::print("results: {}/results.json ({} records, {} wrong or failed)\n", out_dir, b.records.size(), b.failures);
  return b.failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) { return tilefuse::bench::run(argc, argv); }
