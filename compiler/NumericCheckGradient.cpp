// See NumericCheckGradient.h.
#include "compiler/NumericCheckGradient.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilefuse::compiler {
namespace {

/// The held input of a gated check (finite: the derivative there is a number).
std::vector<float> held_values() { return {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -2.5f, 3.0f, 1e-3f, 20.0f, -20.0f}; }

/// Kink test: one-sided differences further apart than this (relative).
constexpr double kKinkTolerance = 1e-4;

double step_for(double w) { return std::ldexp(1.0, -20) * std::max(1.0, std::abs(w)); }

Expected<double> eval_at(const dsl::ResolvedProgram& program, dsl::InputValues at, const std::string& wrt,
                         double w, const dsl::ParameterValues& params) {
  if (wrt == "x") at.x = w;
  else if (wrt == "gate") at.gate = w;
  else at.up = w;
  return dsl::evaluate(program, at, params);
}

double coordinate(const dsl::InputValues& at, const std::string& wrt) {
  return wrt == "x" ? at.x : wrt == "gate" ? at.gate : at.up;
}

}  // namespace

bool within_bound(float out, double ref, const ErrorBound& bound) {
  if (std::isnan(ref)) return std::isnan(out);
  if (std::isnan(out)) return false;
  const float ref_as_float = static_cast<float>(ref);
  if (std::isinf(ref_as_float) || std::isinf(out)) return ref_as_float == out;
  return std::abs(static_cast<double>(out) - ref) <= std::max(bound.relative * std::abs(ref), bound.absolute);
}

Expected<DifferenceQuotients> difference_quotients(const dsl::ResolvedProgram& program,
                                                   const dsl::InputValues& at, const std::string& wrt,
                                                   const dsl::ParameterValues& params) {
  const double w = coordinate(at, wrt), h = step_for(w);
  double f[5];  // f(w - 2h), f(w - h), f(w), f(w + h), f(w + 2h)
  for (int k = -2; k <= 2; ++k) {
    auto value = eval_at(program, at, wrt, w + k * h, params);
    if (!value) return value.take_error();
    f[k + 2] = *value;
  }
  DifferenceQuotients q;
  q.central = (f[3] - f[1]) / (2 * h);
  q.left = (3 * f[2] - 4 * f[1] + f[0]) / (2 * h);
  q.forward_one_sided = (f[3] - f[2]) / h;
  q.backward_one_sided = (f[2] - f[1]) / h;
  return q;
}

Expected<std::vector<GradientReport>> check_gradient_numerics(const KernelSpec& spec,
                                                              const dsl::ParameterValues& params,
                                                              const ErrorBound& bound) {
  auto resolved = spec.program ? dsl::resolve(*spec.program) : dsl::resolve(spec.expression);
  if (!resolved) return resolved.take_error();
  auto gradient = compile_gradient_for_cpu(spec);
  if (!gradient) return gradient.take_error();

  const CpuEpilogue& first_partial = *gradient->partials.front();
  std::vector<float> param_values;
  dsl::ParameterValues ref_params;  // the float-rounded values the kernel sees
  for (const auto& name : first_partial.parameters()) {
    auto it = params.find(name);
    if (it == params.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("missing value for parameter '{}'; pass it with --param {}=VALUE", name, name));
    param_values.push_back(static_cast<float>(it->second));
    ref_params[name] = param_values.back();
  }

  const bool gated = resolved->analysis.inputs == dsl::InputKind::Gated;
  std::vector<float> first, second;
  for (float a : sweep_inputs()) {
    if (!std::isfinite(a)) continue;
    if (!gated) {
      first.push_back(a);
      continue;
    }
    for (float b : held_values()) {
      first.push_back(a);
      second.push_back(b);
    }
  }
  const std::vector<float> ones(first.size(), 1.0f);

  std::vector<GradientReport> reports;
  for (std::size_t p = 0; p < gradient->partials.size(); ++p) {
    GradientReport report;
    report.wrt = gradient->wrt[p];
    std::vector<float> out(first.size());
    std::vector<const float*> inputs = {ones.data(), first.data()};
    if (gated) inputs.push_back(second.data());
    if (auto ok = gradient->partials[p]->evaluate(inputs, param_values, out); !ok) return ok.take_error();

    NumericReport& numbers = report.numbers;
    double worst_excess = -1;
    for (std::size_t i = 0; i < out.size(); ++i) {
      dsl::InputValues at;
      if (gated) {
        at.gate = first[i];
        at.up = second[i];
      } else {
        at.x = first[i];
      }
      auto q = difference_quotients(*resolved, at, report.wrt, ref_params);
      if (!q) return q.take_error();
      const double ref = q->central;
      const bool smooth = std::isfinite(ref) &&
                          std::abs(q->forward_one_sided - q->backward_one_sided) <=
                              kKinkTolerance * std::max(1.0, std::abs(ref));
      if (!smooth && !std::isnan(ref)) {
        ++report.kinks_skipped;
        continue;
      }
      ++numbers.points;
      const bool ok = within_bound(out[i], ref, bound);
      const double err = std::abs(static_cast<double>(out[i]) - ref);
      if (std::isfinite(ref) && std::isfinite(err)) {
        if (std::abs(ref) < 1.0) numbers.max_abs_error = std::max(numbers.max_abs_error, err);
        if (std::abs(ref) >= 1e-3) numbers.max_rel_error = std::max(numbers.max_rel_error, err / std::abs(ref));
      }
      const double allowed = std::max(bound.relative * std::abs(ref), bound.absolute);
      const double excess = ok ? err / allowed : std::numeric_limits<double>::infinity();
      if (excess > worst_excess) {
        worst_excess = excess;
        numbers.worst_input = first[i];
        numbers.worst_up = gated ? second[i] : 0.0f;
      }
      if (!ok) {
        if (numbers.violations == 0)
          numbers.first_violation =
              gated ? fmt::format("d/d{} at gate={:.9g} up={:.9g}: got {:.9g}, reference {:.17g}", report.wrt,
                                  first[i], second[i], out[i], ref)
                    : fmt::format("d/dx at x={:.9g}: got {:.9g}, reference {:.17g}", first[i], out[i], ref);
        ++numbers.violations;
      }
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace tilefuse::compiler
