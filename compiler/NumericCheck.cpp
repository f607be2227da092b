// See NumericCheck.h.
#include "compiler/NumericCheck.h"

#include <cmath>
#include <limits>
#include <tuple>

#include <fmt/format.h>

namespace tilefuse::compiler {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Values where fp16/bf16/fp32 conversions or overflow change behaviour.
std::vector<float> special_values() {
  const float f16_max = 65504.0f, f16_overflow = 65520.0f;  // rounds to inf in fp16 from here
  const float bf16_max = 3.38953139e38f;                     // largest finite bf16
  const float flt_max = std::numeric_limits<float>::max();
  std::vector<float> values = {0.0f, -0.0f, kInf, -kInf, kNaN,
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::denorm_min(),
                               1e-30f, -1e-30f, 1e-8f, -1e-8f};
  for (float v : {f16_max, f16_overflow, bf16_max, flt_max, 88.0f, 89.0f, 104.0f, 1e4f, 1e19f}) {
    for (float s : {1.0f, -1.0f}) {
      float x = s * v;
      values.push_back(x);
      values.push_back(std::nextafter(x, 0.0f));
      values.push_back(std::nextafter(x, s * kInf));
    }
  }
  return values;
}

std::vector<float> up_values() {
  return {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -2.5f, 3.0f, 1e-3f, 20.0f, -20.0f, kInf, -kInf, kNaN};
}

struct Judgement {
  bool ok;
  double abs_error;
};

/// Compares a float result with the float64 reference under `bound`.
Judgement judge(float out, double ref, const ErrorBound& bound) {
  if (std::isnan(ref)) return {std::isnan(out), 0.0};
  if (std::isnan(out)) return {false, std::numeric_limits<double>::infinity()};
  const float ref_as_float = static_cast<float>(ref);  // overflows to ±inf like the kernel's store
  if (std::isinf(ref_as_float) || std::isinf(out))
    return {ref_as_float == out, ref_as_float == out ? 0.0 : std::numeric_limits<double>::infinity()};
  const double err = std::abs(static_cast<double>(out) - ref);
  return {err <= std::max(bound.relative * std::abs(ref), bound.absolute), err};
}

}  // namespace

std::vector<float> sweep_inputs() {
  std::vector<float> xs;
  for (int i = -20 * 1024; i <= 20 * 1024; ++i) xs.push_back(static_cast<float>(i) / 1024.0f);
  // Points between the grid lines, so the sweep is not only dyadic rationals.
  for (int i = -2000; i < 2000; ++i) xs.push_back(static_cast<float>(i) * 0.01f + 0.003f);
  for (float v : special_values()) xs.push_back(v);
  return xs;
}

Expected<NumericReport> check_numerics(const KernelSpec& spec, const dsl::ParameterValues& params,
                                       const ErrorBound& bound) {
  dsl::OperandDeclarations declared{spec.row_inputs, spec.col_inputs};
  auto resolved = spec.program ? dsl::resolve(*spec.program, declared) : dsl::resolve(spec.expression, declared);
  if (!resolved) return resolved.take_error();
  auto cpu = compile_for_cpu(spec);
  if (!cpu) return cpu.take_error();

  std::vector<float> param_values;
  for (const auto& name : (*cpu)->parameters()) {
    auto it = params.find(name);
    if (it == params.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("missing value for parameter '{}'; pass it with --param {}=VALUE",
                                    name, name));
    param_values.push_back(static_cast<float>(it->second));
  }
  // The reference sees the same (float-rounded) parameter values as the kernel.
  dsl::ParameterValues ref_params;
  for (std::size_t i = 0; i < param_values.size(); ++i)
    ref_params[(*cpu)->parameters()[i]] = param_values[i];

  const bool gated = resolved->analysis.inputs == dsl::InputKind::Gated;
  std::vector<float> first, second;
  for (float a : sweep_inputs()) {
    if (!gated) {
      first.push_back(a);
      continue;
    }
    for (float b : up_values()) {
      first.push_back(a);
      second.push_back(b);
    }
  }
  // Row and column inputs hold one value over the whole sweep, from `params`.
  std::vector<std::vector<float>> operand_arrays;
  dsl::ParameterValues ref_rows, ref_cols;
  for (const auto& [names, ref, kind] : {std::tuple{&(*cpu)->row_inputs(), &ref_rows, "row"},
                                         {&(*cpu)->col_inputs(), &ref_cols, "col"}}) {
    for (const auto& name : *names) {
      auto it = params.find(name);
      if (it == params.end())
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("missing value for {} input '{}'; pass it with --{} {}=VALUE",
                                      std::string_view(kind) == "row" ? "row" : "column", name, kind, name));
      operand_arrays.emplace_back(first.size(), static_cast<float>(it->second));
      (*ref)[name] = static_cast<float>(it->second);
    }
  }
  std::vector<float> out(first.size());
  std::vector<const float*> inputs = {first.data()};
  if (gated) inputs.push_back(second.data());
  for (const auto& array : operand_arrays) inputs.push_back(array.data());
  if (auto ok = (*cpu)->evaluate(inputs, param_values, out); !ok) return ok.take_error();

  NumericReport report;
  report.points = out.size();  // minus `skipped`, counted below
  double worst_excess = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    dsl::InputValues in;
    in.rows = ref_rows;
    in.cols = ref_cols;
    if (gated) {
      in.gate = first[i];
      in.up = second[i];
    } else {
      in.x = first[i];
    }
    auto ref = dsl::evaluate(*resolved, in, ref_params);
    if (!ref) return ref.take_error();
    if (gated && std::isinf(in.up)) {
      // f(gate, ±inf) multiplies the gate factor f(gate, 1) by infinity. Where
      // that factor is nonzero in float64 but below float's normal range, fp32
      // intermediates (erfc, exp) underflow to 0 and 0·inf = NaN, while
      // float64 gives ±inf: both are right for their precision, so the point
      // says nothing about the kernel.
      dsl::InputValues unit = in;
      unit.up = 1.0;
      auto factor = dsl::evaluate(*resolved, unit, ref_params);
      if (!factor) return factor.take_error();
      if (*factor != 0.0 && std::abs(*factor) < std::numeric_limits<float>::min()) {
        ++report.skipped;
        continue;
      }
    }
    const Judgement j = judge(out[i], *ref, bound);
    if (std::isfinite(*ref) && std::isfinite(j.abs_error)) {
      if (std::abs(*ref) < 1.0) report.max_abs_error = std::max(report.max_abs_error, j.abs_error);
      if (std::abs(*ref) >= 1e-3)
        report.max_rel_error = std::max(report.max_rel_error, j.abs_error / std::abs(*ref));
    }
    const double allowed = std::max(bound.relative * std::abs(*ref), bound.absolute);
    const double excess = j.ok ? j.abs_error / allowed : std::numeric_limits<double>::infinity();
    if (excess > worst_excess) {
      worst_excess = excess;
      report.worst_input = first[i];
      report.worst_up = gated ? second[i] : 0.0f;
    }
    if (!j.ok) {
      if (report.violations == 0)
        report.first_violation =
            gated ? fmt::format("gate={:.9g} up={:.9g}: got {:.9g}, reference {:.17g}", first[i],
                                second[i], out[i], *ref)
                  : fmt::format("x={:.9g}: got {:.9g}, reference {:.17g}", first[i], out[i], *ref);
      ++report.violations;
    }
  }
  report.points -= report.skipped;
  return report;
}

}  // namespace tilefuse::compiler
