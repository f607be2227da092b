// `tilefuse check`: max error of the lowered epilogue against the float64
// reference over a dense sweep plus special values.
#include <optional>

#include <fmt/format.h>

#include "CliSupport.h"
#include "compiler/NumericCheck.h"
#include "compiler/NumericCheckGradient.h"

namespace tilefuse::cli {
namespace {

struct CheckOptions {
  ExpressionOptions expression;
  std::optional<double> relative;  ///< default: the mode's bound
  std::optional<double> absolute;
  bool grad = false;
};

/// --grad: each partial derivative against float64 central differences.
int run_check_gradient(const CheckOptions& options, const compiler::KernelSpec& spec,
                       const dsl::ParameterValues& params) {
  const compiler::ErrorBound mode_bound = spec.precision == compiler::Precision::Fast
                                              ? compiler::kGradientFastBound
                                              : compiler::kGradientPreciseBound;
  const compiler::ErrorBound bound{options.relative.value_or(mode_bound.relative),
                                   options.absolute.value_or(mode_bound.absolute)};
  auto reports = compiler::check_gradient_numerics(spec, params, bound);
  if (!reports) return report_error(reports.error());
  fmt::print("expression:     {}\n", options.expression.expr);
  fmt::print("mode:           {}\n", options.expression.mode);
  fmt::print("reference:      float64 central differences of the interpreter\n");
  fmt::print("bound:          |err| <= max({:g}*|ref|, {:g})\n", bound.relative, bound.absolute);
  bool ok = true;
  for (const auto& r : *reports) {
    fmt::print("d/d{}:\n", r.wrt);
    fmt::print("  points:        {} (+{} next to a kink skipped)\n", r.numbers.points, r.kinks_skipped);
    fmt::print("  max abs error: {:.3e}  (where |ref| < 1)\n", r.numbers.max_abs_error);
    fmt::print("  max rel error: {:.3e}  (where |ref| >= 1e-3)\n", r.numbers.max_rel_error);
    fmt::print("  violations:    {}\n", r.numbers.violations);
    if (!r.numbers.ok()) {
      fmt::print("  first:         {}\n", r.numbers.first_violation);
      ok = false;
    }
  }
  if (!ok) return kExitInternal;
  fmt::print("result:         ok\n");
  return kExitOk;
}

int run_check(const CheckOptions& options) {
  auto spec = options.expression.kernel_spec();
  if (!spec) return report_error(spec.error());
  auto params = options.expression.parameter_values();
  if (!params) return report_error(params.error());
  if (options.grad) return run_check_gradient(options, *spec, *params);
  // Row/column inputs are checked at one value each (--row NAME=VALUE).
  for (bool columns : {false, true}) {
    auto given = options.expression.operand_values(columns);
    if (!given) return report_error(given.error());
    for (const auto& [name, values] : *given) {
      if (values.size() > 1)
        return report_error(make_error(ErrorCode::InvalidInput,
                                       fmt::format("{} {}: check takes one value (the sweep runs over x)",
                                                   columns ? "--col" : "--row", name)));
      if (values.size() == 1) (*params)[name] = values[0];
    }
  }
  const compiler::ErrorBound mode_bound =
      spec->precision == compiler::Precision::Fast ? compiler::kFastBound : compiler::kPreciseBound;
  const compiler::ErrorBound bound{options.relative.value_or(mode_bound.relative),
                                   options.absolute.value_or(mode_bound.absolute)};
  auto report = compiler::check_numerics(*spec, *params, bound);
  if (!report) return report_error(report.error());
  fmt::print("expression:     {}\n", options.expression.expr);
  fmt::print("mode:           {}\n", options.expression.mode);
  fmt::print("points:         {}{}\n", report->points,
             report->skipped ? fmt::format(" (+{} gated points with infinite up skipped: the gate factor "
                                           "is below float's normal range)", report->skipped)
                             : "");
  fmt::print("max abs error:  {:.3e}  (where |ref| < 1)\n", report->max_abs_error);
  fmt::print("max rel error:  {:.3e}  (where |ref| >= 1e-3)\n", report->max_rel_error);
  fmt::print("bound:          |err| <= max({:g}*|ref|, {:g})\n", bound.relative, bound.absolute);
  fmt::print("violations:     {}\n", report->violations);
  if (!report->ok()) {
    fmt::print("first:          {}\n", report->first_violation);
    return kExitInternal;  // the compiled code is wrong: not the user's input
  }
  fmt::print("result:         ok\n");
  return kExitOk;
}

}  // namespace

void add_check_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("check", "compare the compiled epilogue with the float64 reference");
  auto options = std::make_shared<CheckOptions>();
  options->expression.add_to(*cmd, /*with_target_options=*/false);
  cmd->add_option("--rel", options->relative,
                  "relative error bound (default: 1e-6 precise, 2^-10 fast)");
  cmd->add_option("--abs", options->absolute, "absolute error bound (default: 1e-7 precise, 1e-6 fast)");
  cmd->add_flag("--grad", options->grad,
                "check the derivative(s) instead, against float64 central differences "
                "(default bounds: 1e-5/1e-6 precise, 2^-10/1e-5 fast)");
  cmd->callback([options, &exit_code] {
    if (auto loaded = options->expression.load_expression(); !loaded) {
      exit_code = report_error(loaded.error());
      return;
    }
    exit_code = run_check(*options);
  });
}

}  // namespace tilefuse::cli
