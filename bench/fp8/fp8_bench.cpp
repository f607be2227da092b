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
#include <cmath>
#include <ctime>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/fp8/CublasLtFp8.h"
#include "bench/fp8/Fp8Check.h"
#include "bench/fp8/Fp8Kernels.h"
#include "bench/gemm/BenchKernels.h"
#include "bench/gemm/EventTimer.h"
#include "dsl/Resolve.h"
#include "runtime/Driver.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {
namespace {

constexpr int kExitSkip = 77;

struct Shape3 {
  long long m, n, k;
};

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

double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }

/// The bf16 rounding of the reference max |D| (RNE: 2^-9) with a margin.
constexpr double kAmaxTolerance = 1.0 / 256;

/// Device copies of one problem's scales (HostScales) and the output scale / amax cells.
struct DeviceScales {
  gpu::DeviceBuffer a, b, d, amax, max_abs;
  const float* ptr(const gpu::DeviceBuffer& buffer) const { return static_cast<const float*>(buffer.get()); }
};

/// One measured combination: what the record names.
struct Variant {
  const char* impl;
  std::string activation;  ///< "none" for a plain GEMM
  Fp8Scaling scaling;
  bool fp8_out = false;
};

struct Bench {
  CUstream stream;
  const runtime::DriverApi& api;
  EventTimer timer;
  TimingOptions timing;
  Fp8Kernels kernels;
  CublasLtFp8 lt;
  Runtime rt;
  Arch arch;
  std::mt19937_64 rng;
  nlohmann::json records = nlohmann::json::array();
  nlohmann::json not_run = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
};

nlohmann::json key(const Variant& v, const Shape3& s) {
  return {{"impl", v.impl},   {"activation", v.activation}, {"M", s.m}, {"N", s.n}, {"K", s.k}, {"dtype", "e4m3"},
          {"scaling", to_string(v.scaling)}, {"out_dtype", v.fp8_out ? "e4m3" : "bf16"}};
}

void skip(Bench& b, const Variant& v, const Shape3& s, const std::string& reason) {
  nlohmann::json entry = key(v, s);
  entry["reason"] = reason;
  b.not_run.push_back(entry);
  fmt::print("  {:<22} {:<10} {:<8} {:<4}: not run: {}\n", v.impl, v.activation, to_string(v.scaling),
             v.fp8_out ? "e4m3" : "bf16", reason);
}

void fail(Bench& b, const Variant& v, const Shape3& s, const Error& e) {
  const std::string what = fmt::format("{} {} {} {} out, {}x{}x{}: {}", v.impl, v.activation, to_string(v.scaling),
                                       v.fp8_out ? "e4m3" : "bf16", s.m, s.n, s.k, e.message);
  fmt::print("  error: {}\n{}\n", what, e.detail);
  b.errors.push_back(what);
}

struct Measured {
  double ms = 0;
  Fp8SampleResult check;
  std::optional<double> amax_rel_error;  ///< FP8 output with amax: |amax − max|D|| / max|D|
  std::string arch;
};

void record(Bench& b, const Variant& v, const Shape3& s, const Measured& m) {
  const double tf = tflops(2.0 * s.m * s.n * s.k, m.ms);
  const bool amax_ok = !m.amax_rel_error || *m.amax_rel_error <= kAmaxTolerance;
  nlohmann::json r = key(v, s);
  r.update({{"ms", m.ms}, {"tflops", tf}, {"correct", m.check.sample.correct() && amax_ok},
            {"rel_error", m.check.sample.rel_error}});
  if (!m.arch.empty()) r["arch"] = m.arch;
  if (m.amax_rel_error) r["amax_rel_error"] = *m.amax_rel_error;
  b.records.push_back(r);
  fmt::print("  {:<22} {:<10} {:<8} {:<4} {:>9.4f} ms {:>8.1f} TFLOP/s  {} (rel {:.1e}{}){}\n", v.impl, v.activation,
             to_string(v.scaling), v.fp8_out ? "e4m3" : "bf16", m.ms, tf,
             r["correct"].get<bool>() ? "ok" : "WRONG", m.check.sample.rel_error,
             m.amax_rel_error ? fmt::format(", amax rel {:.1e}", *m.amax_rel_error) : "",
             m.arch.empty() ? "" : " [" + m.arch + "]");
}

/// Reads one float from the device.
Expected<float> read_float(const gpu::DeviceBuffer& buffer) {
  float value = 0;
  if (auto ok = buffer.download(&value, sizeof value); !ok) return ok.take_error();
  return value;
}

/// Exact max |D| of a bf16 output (the amax an FP8 output of the same computation must report).
Expected<double> max_abs(Bench& b, DeviceScales& scales, const gpu::DeviceBuffer& out, long long elements) {
  const float zero = 0.0f;
  if (auto ok = scales.max_abs.upload(&zero, sizeof zero); !ok) return ok.take_error();
  if (auto ok = b.kernels.max_abs_bf16(b.stream, out.get(), elements, static_cast<float*>(scales.max_abs.get())); !ok)
    return ok.take_error();
  if (CUresult r = b.api.cuStreamSynchronize(b.stream); r != CUDA_SUCCESS)
    return runtime::driver_error(b.api, r, "cuStreamSynchronize after max_abs_bf16");
  auto value = read_float(scales.max_abs);
  if (!value) return value.take_error();
  return static_cast<double>(*value);
}

struct Problem {
  Shape3 s;
  gpu::DeviceBuffer a, w, out_bf16, out_fp8, scratch;  // scratch: cuBLASLt's bf16 C / the unfused GEMM's output
  HostScales host;
  DeviceScales dev;
  float scale_d = 1.0f;
  /// max |D| of each bf16 computation measured so far, by (impl, activation).
  std::map<std::pair<std::string, std::string>, double> bf16_max_abs;
  Fp8Operands operands() const { return {&a, &w, &host, s.m, s.n, s.k}; }
};

/// The activation as tilefuse takes it: row-wise scaling multiplies x by the
/// row/column inputs first.
std::string tilefuse_expression(const std::string& activation, Fp8Scaling scaling) {
  return scaling == Fp8Scaling::RowWise ? fmt::format("{}(x * sa * sb)", activation) : activation;
}

Expected<dsl::ResolvedProgram> reference_program(const std::string& activation, Fp8Scaling scaling) {
  dsl::OperandDeclarations declared;
  if (scaling == Fp8Scaling::RowWise) declared = {{"sa"}, {"sb"}};
  return dsl::resolve(tilefuse_expression(activation, scaling), declared);
}

/// Times `launch`, checks `out` and (FP8 out with `amax`) the amax; records.
Expected<void> measure(Bench& b, Problem& p, const Variant& v, const std::function<Expected<void>()>& launch,
                       gpu::DeviceBuffer& out, const float* amax, const std::string& arch = {}) {
  if (auto ok = out.fill(0xFF); !ok) return ok;  // NaN in bf16 and e4m3: every element must be written
  auto ms = b.timer.median_ms(launch, b.timing);
  if (!ms) return ms.take_error();
  std::optional<dsl::ResolvedProgram> program;
  if (v.activation != "none") {
    auto resolved = reference_program(v.activation, v.scaling);
    if (!resolved) return resolved.take_error();
    program = std::move(*resolved);
  }
  auto check = check_fp8_sample(p.operands(), out, v.fp8_out, p.scale_d, program ? &*program : nullptr, b.rng);
  if (!check) return check.take_error();
  Measured m{*ms, *check, std::nullopt, arch};
  const auto computation = std::pair<std::string, std::string>{v.impl, v.activation};
  if (!v.fp8_out) {
    auto max = max_abs(b, p.dev, out, p.s.m * p.s.n);
    if (!max) return max.take_error();
    p.bf16_max_abs[computation] = *max;
  } else if (amax) {
    auto got = read_float(p.dev.amax);
    if (!got) return got.take_error();
    auto expected = p.bf16_max_abs.find(computation);
    if (expected == p.bf16_max_abs.end())
      return make_error(ErrorCode::Internal, fmt::format("no bf16 run of {} {} to check the amax against", v.impl,
                                                         v.activation));
    m.amax_rel_error = std::abs(*got - expected->second) / std::max(expected->second, 1e-30);
  }
  record(b, v, p.s, m);
  return {};
}

/// The tilefuse options of a variant: e4m3 A and B (B as N x K), bf16 or e4m3
/// (with amax) D; row-wise scaling through the row/column inputs sa, sb.
MatmulOptions tilefuse_options(const Variant& v) {
  MatmulOptions options{.activation = tilefuse_expression(v.activation, v.scaling), .dtype = DType::E4M3};
  options.b_col_major = true;
  options.out_dtype = v.fp8_out ? DType::E4M3 : DType::BF16;
  options.amax = v.fp8_out;
  options.scale = v.scaling == Fp8Scaling::Block128 ? ScaleMode::Block128 : ScaleMode::PerTensor;
  if (v.scaling == Fp8Scaling::RowWise) {
    options.row_inputs = {"sa"};
    options.col_inputs = {"sb"};
  }
  return options;
}

struct CompiledOp {
  MatmulOp op;
  KernelInfo info;
  std::optional<Error> sm90a_unsupported;  ///< set when sm_90a fell back to the mma.sync sm_90 kernel
};

/// The tilefuse op of a variant, compiled for the launch shape on `arch`
/// (`device_arch`: the current device's, which a launch uses without forcing
/// one): on sm_90a falls back to the mma.sync sm_90 kernel when the wgmma one
/// is Unsupported. Unsupported both ways: the error.
Expected<CompiledOp> compile_tilefuse(Runtime& rt, const Variant& v, const Shape3& s, Arch arch) {
  auto build = [&](Arch target, bool forced) -> Expected<CompiledOp> {
    MatmulOptions o = tilefuse_options(v);
    if (forced) o.arch = target;
    auto op = rt.matmul(o);
    if (!op) return op.take_error();
    auto info = op->compile({s.m, s.n, s.k}, target);
    if (!info) return info.take_error();
    return CompiledOp{*op, *info, std::nullopt};
  };
  auto op = build(arch, false);
  if (op || arch != Arch::Sm90a || op.error().code != ErrorCode::Unsupported) return op;
  auto fallback = build(Arch::Sm90, true);
  if (fallback) fallback->sm90a_unsupported = op.error();
  return fallback;
}

Expected<std::pair<MatmulOp, std::string>> tilefuse_op(Bench& b, const Variant& v, const Shape3& s) {
  auto compiled = compile_tilefuse(b.rt, v, s, b.arch);
  if (!compiled) return compiled.take_error();
  if (compiled->sm90a_unsupported)
    skip(b, v, s, fmt::format("sm_90a: {} (measuring the mma.sync sm_90 kernel instead)",
                              compiled->sm90a_unsupported->message));
  return std::pair{compiled->op, compiled->info.arch};
}

Expected<void> run_tilefuse(Bench& b, Problem& p, const Variant& v) {
  auto op = tilefuse_op(b, v, p.s);
  if (!op) {
    if (op.error().code == ErrorCode::Unsupported) return skip(b, v, p.s, op.error().message), Expected<void>{};
    return op.take_error();
  }
  gpu::DeviceBuffer& out = v.fp8_out ? p.out_fp8 : p.out_bf16;
  MatmulArgs args{.a = p.a.get(), .b = p.w.get(), .d = out.get(), .shape = {p.s.m, p.s.n, p.s.k}};
  if (v.scaling == Fp8Scaling::RowWise) {
    args.row_inputs[0] = p.dev.ptr(p.dev.a);
    args.col_inputs[0] = p.dev.ptr(p.dev.b);
  } else {
    args.scale_a = p.dev.ptr(p.dev.a);
    args.scale_b = p.dev.ptr(p.dev.b);
  }
  if (v.fp8_out) {
    args.scale_d = p.dev.ptr(p.dev.d);
    args.amax = static_cast<float*>(p.dev.amax.get());
  }
  const MatmulOp& fused = op->first;
  return measure(b, p, v, [&] { return fused(b.stream, args); }, out, args.amax, op->second);
}

Expected<void> run_cublaslt(Bench& b, Problem& p, const Variant& v, bool gelu_epilogue, bool fast_accum = false) {
  gpu::DeviceBuffer& out = v.fp8_out ? p.out_fp8 : p.out_bf16;
  LtFp8Problem problem{p.s.m, p.s.n, p.s.k, v.scaling, v.fp8_out, gelu_epilogue, fast_accum};
  LtFp8Operands operands{p.a.get(), p.w.get(), out.get(), v.fp8_out ? p.scratch.get() : nullptr,
                         p.dev.ptr(p.dev.a), p.dev.ptr(p.dev.b)};
  if (v.fp8_out) {
    operands.scale_d = p.dev.ptr(p.dev.d);
    operands.amax = static_cast<float*>(p.dev.amax.get());
  }
  auto plan = b.lt.plan(problem, operands);
  if (!plan) {
    if (plan.error().code == ErrorCode::Unsupported) return skip(b, v, p.s, plan.error().message), Expected<void>{};
    return plan.take_error();
  }
  return measure(b, p, v, [&] { return b.lt.run(b.stream, **plan); }, out, operands.amax);
}

/// cuBLASLt FP8 GEMM (bf16 out, scaled as the variant says) + the separate activation kernel.
Expected<void> run_cublaslt_plus_act(Bench& b, Problem& p, const Variant& v) {
  LtFp8Problem problem{p.s.m, p.s.n, p.s.k, v.scaling, false, false};
  LtFp8Operands operands{p.a.get(), p.w.get(), p.scratch.get(), nullptr, p.dev.ptr(p.dev.a), p.dev.ptr(p.dev.b)};
  auto plan = b.lt.plan(problem, operands);
  if (!plan) {
    if (plan.error().code == ErrorCode::Unsupported) return skip(b, v, p.s, plan.error().message), Expected<void>{};
    return plan.take_error();
  }
  compiler::KernelSpec spec;
  spec.expression = v.activation;
  spec.input_type = spec.output_type = DType::BF16;
  spec.arch = b.arch;
  auto act = ActivationKernel::load(spec);
  if (!act) return act.take_error();
  return measure(b, p, v,
                 [&]() -> Expected<void> {
                   if (auto ok = b.lt.run(b.stream, **plan); !ok) return ok;
                   return act->run(b.stream, p.scratch.get(), p.out_bf16.get(), p.s.m, p.s.n, {});
                 },
                 p.out_bf16, nullptr);
}

/// The correct record of a variant in this run, if any.
const nlohmann::json* find_record(const Bench& b, const Variant& v, const Shape3& s) {
  const nlohmann::json want = key(v, s);
  for (const auto& r : b.records) {
    bool same = r["correct"].get<bool>();
    for (const auto& [field, value] : want.items()) same = same && r[field] == value;
    if (same) return &r;
  }
  return nullptr;
}

/// "-> gelu (tensor, bf16 out): 0.97x cuBLASLt FP8 TFLOP/s, 1.16x the speed of cublaslt_fp8+act".
void print_ratios(const Bench& b, const Variant& fused, const Shape3& s) {
  const nlohmann::json* mine = find_record(b, fused, s);
  const nlohmann::json* ceiling = find_record(b, {"cublaslt_fp8", "none", fused.scaling, fused.fp8_out}, s);
  if (!mine) return;
  std::string line = fmt::format("  -> {} ({}, {} out):", fused.activation, to_string(fused.scaling),
                                 fused.fp8_out ? "e4m3" : "bf16");
  if (ceiling)
    line += fmt::format(" {:.2f}x cuBLASLt FP8 TFLOP/s", (*mine)["tflops"].get<double>() / (*ceiling)["tflops"].get<double>());
  for (const char* peer : {"cublaslt_fp8+act", "cublaslt_fp8_epilogue"})
    if (const nlohmann::json* other = find_record(b, {peer, fused.activation, fused.scaling, fused.fp8_out}, s))
      line += fmt::format(", {:.2f}x the speed of {}", (*other)["ms"].get<double>() / (*mine)["ms"].get<double>(), peer);
  fmt::print("{}\n", line);
}

Expected<void> upload_scales(Problem& p) {
  auto upload = [](gpu::DeviceBuffer& buffer, const std::vector<float>& values) -> Expected<void> {
    auto allocated = gpu::DeviceBuffer::allocate(std::max<std::size_t>(values.size(), 1) * sizeof(float));
    if (!allocated) return allocated.take_error();
    buffer = std::move(*allocated);
    return buffer.upload(values.data(), values.size() * sizeof(float));
  };
  const HostScales& h = p.host;
  switch (h.scaling) {
    case Fp8Scaling::PerTensor:
      if (auto ok = upload(p.dev.a, {h.a}); !ok) return ok;
      return upload(p.dev.b, {h.b});
    case Fp8Scaling::RowWise:
      if (auto ok = upload(p.dev.a, h.row); !ok) return ok;
      return upload(p.dev.b, h.col);
    case Fp8Scaling::Block128:
      if (auto ok = upload(p.dev.a, h.block_a); !ok) return ok;
      return upload(p.dev.b, h.block_b);
  }
  return {};
}

struct Selection {
  std::vector<std::string> activations;
  std::vector<Fp8Scaling> scalings;
  bool fp8_out = true;
};

/// Every tilefuse variant a run of `sel` launches (FP8 outputs: per-tensor scaling only).
std::vector<Variant> tilefuse_variants(const Selection& sel) {
  std::vector<Variant> variants;
  for (Fp8Scaling scaling : sel.scalings)
    for (bool fp8_out : {false, true}) {
      if (fp8_out && (!sel.fp8_out || scaling != Fp8Scaling::PerTensor)) continue;
      for (const std::string& activation : sel.activations) variants.push_back({"tilefuse", activation, scaling, fp8_out});
    }
  return variants;
}

/// --compile-only ARCH (no GPU needed): compiles the benchmark's helper
/// kernels and every tilefuse variant of the selection for the 4096 x 14336 x
/// 4096 problem, one line each; exit 1 if any fails (Unsupported on sm_90a
/// with the sm_90 fallback compiled counts as compiled, said so).
int compile_only(const Selection& sel, Arch arch) {
  int failures = 0;
  if (auto ok = Fp8Kernels::compile(to_string(arch)); !ok) {
    fmt::print("FAILED bench helper kernels ({}): {}\n{}\n", to_string(arch), ok.error().message, ok.error().detail);
    ++failures;
  } else {
    fmt::print("compiled bench helper kernels (fill_e4m3, max_abs_bf16) for {}\n", to_string(arch));
  }
  Runtime rt;
  const Shape3 shape{4096, 14336, 4096};
  for (const Variant& v : tilefuse_variants(sel)) {
    const std::string what = fmt::format("tilefuse {} ({}, {} out)", tilefuse_expression(v.activation, v.scaling),
                                         to_string(v.scaling), v.fp8_out ? "e4m3" : "bf16");
    auto compiled = compile_tilefuse(rt, v, shape, arch);
    if (!compiled) {
      fmt::print("FAILED {} for {}: {}\n{}\n", what, to_string(arch), compiled.error().message, compiled.error().detail);
      ++failures;
      continue;
    }
    const KernelInfo& info = compiled->info;
    fmt::print("compiled {} for {}: {} registers, {} spill bytes, tile {}{}\n", what, info.arch, info.registers,
               info.spill_bytes, to_string(info.tile),
               compiled->sm90a_unsupported ? " (sm_90a: " + compiled->sm90a_unsupported->message + ")" : "");
  }
  return failures == 0 ? 0 : 1;
}

Expected<void> bench_shape(Bench& b, const Shape3& s, const Selection& sel) {
  fmt::print("M={} N={} K={} e4m3\n", s.m, s.n, s.k);
  Problem p;
  p.s = s;
  for (auto [buffer, bytes] : {std::pair{&p.a, s.m * s.k}, {&p.w, s.n * s.k}, {&p.out_bf16, s.m * s.n * 2},
                               {&p.out_fp8, s.m * s.n}, {&p.scratch, s.m * s.n * 2}}) {
    auto allocated = gpu::DeviceBuffer::allocate(bytes);
    if (!allocated) return allocated.take_error();
    *buffer = std::move(*allocated);
  }
  for (auto* cell : {&p.dev.d, &p.dev.amax, &p.dev.max_abs}) {
    auto allocated = gpu::DeviceBuffer::allocate(sizeof(float));
    if (!allocated) return allocated.take_error();
    *cell = std::move(*allocated);
  }
  // e4m3 values in [-1, 1) (subnormals below 2^-6 included); the scales bring
  // the K-term sums (about sqrt(K)/3) back to O(1): x stays well inside e4m3
  // after scale_d = 4 for the FP8 outputs.
  if (auto ok = b.kernels.fill_e4m3(b.stream, p.a.get(), s.m * s.k, b.rng(), 1.0f); !ok) return ok;
  if (auto ok = b.kernels.fill_e4m3(b.stream, p.w.get(), s.n * s.k, b.rng(), 1.0f); !ok) return ok;
  p.scale_d = 4.0f;
  if (auto ok = p.dev.d.upload(&p.scale_d, sizeof p.scale_d); !ok) return ok;
  const float base = 3.0f / std::sqrt(static_cast<float>(s.k));

  for (Fp8Scaling scaling : sel.scalings) {
    p.host = HostScales::random(scaling, s.m, s.n, s.k, base, b.rng);
    p.bf16_max_abs.clear();
    if (auto ok = upload_scales(p); !ok) return ok;
    auto attempt = [&](const Variant& v, Expected<void> result) {
      if (!result) fail(b, v, s, result.error());
    };
    const Variant plain{"cublaslt_fp8", "none", scaling};
    attempt(plain, run_cublaslt(b, p, plain, false));
    const Variant fast{"cublaslt_fp8_fast_accum", "none", scaling};
    attempt(fast, run_cublaslt(b, p, fast, false, true));
    for (const std::string& activation : sel.activations) {
      const Variant fused{"tilefuse", activation, scaling};
      attempt(fused, run_tilefuse(b, p, fused));
      const Variant unfused{"cublaslt_fp8+act", activation, scaling};
      attempt(unfused, run_cublaslt_plus_act(b, p, unfused));
      if (activation == "gelu_tanh") {
        const Variant epilogue{"cublaslt_fp8_epilogue", activation, scaling};
        attempt(epilogue, run_cublaslt(b, p, epilogue, true));
      }
      print_ratios(b, fused, s);
    }
    // FP8 output (delayed scaling: per-tensor scales, amax for the next step).
    if (!sel.fp8_out || scaling != Fp8Scaling::PerTensor) continue;
    const Variant plain_fp8{"cublaslt_fp8", "none", scaling, true};
    if (p.bf16_max_abs.count({"cublaslt_fp8", "none"})) attempt(plain_fp8, run_cublaslt(b, p, plain_fp8, false));
    for (const std::string& activation : sel.activations) {
      const Variant fused{"tilefuse", activation, scaling, true};
      if (p.bf16_max_abs.count({"tilefuse", activation})) attempt(fused, run_tilefuse(b, p, fused));
      if (activation == "gelu_tanh" && p.bf16_max_abs.count({"cublaslt_fp8_epilogue", activation})) {
        const Variant epilogue{"cublaslt_fp8_epilogue", activation, scaling, true};
        attempt(epilogue, run_cublaslt(b, p, epilogue, true));
      }
      print_ratios(b, fused, s);
    }
  }
  return {};
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
    return compile_only(sel, *arch);
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
