// See Fp8Harness.h.
#include "bench/fp8/Fp8Harness.h"

#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "bench/fp8/Fp8Check.h"
#include "bench/gemm/BenchKernels.h"

namespace tilefuse::bench {
namespace {

double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }

/// The bf16 rounding of the reference max |D| (RNE: 2^-9) with a margin.
constexpr double kAmaxTolerance = 1.0 / 256;

/// Device copies of one problem's scales (HostScales) and the output scale / amax cells.
struct DeviceScales {
  gpu::DeviceBuffer a, b, d, amax, max_abs;
  const float* ptr(const gpu::DeviceBuffer& buffer) const { return static_cast<const float*>(buffer.get()); }
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

}  // namespace

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

}  // namespace tilefuse::bench
