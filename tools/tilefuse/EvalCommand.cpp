// `tilefuse eval`: evaluate the lowered epilogue on the CPU, one result per line.
#include <fmt/format.h>

#include "CliSupport.h"
#include "dsl/Resolve.h"

namespace tilefuse::cli {
namespace {

struct EvalOptions {
  ExpressionOptions expression;
  std::string x, gate, up;
  bool grad = false;
};

/// Parameter values in `names` order; every --param must name one of them.
Expected<std::vector<float>> ordered_parameters(const std::vector<std::string>& names,
                                                const dsl::ParameterValues& params) {
  std::vector<float> values;
  for (const auto& name : names) {
    auto it = params.find(name);
    if (it == params.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("missing value for parameter '{}'; pass it with --param {}=VALUE", name, name));
    values.push_back(static_cast<float>(it->second));
  }
  for (const auto& [name, value] : params)
    if (std::find(names.begin(), names.end(), name) == names.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("--param {}: the expression has no parameter '{}'", name, name));
  return values;
}

/// One array per declared row input then per column input (in the
/// epilogue's order), each of `points` values: a single --row/--col value is
/// used for every point.
Expected<std::vector<std::vector<float>>> operand_arrays(const EvalOptions& options,
                                                         const compiler::CpuEpilogue& cpu, std::size_t points) {
  std::vector<std::vector<float>> arrays;
  for (bool columns : {false, true}) {
    auto given = options.expression.operand_values(columns);
    if (!given) return given.take_error();
    const char* flag = columns ? "--col" : "--row";
    for (const auto& name : columns ? cpu.col_inputs() : cpu.row_inputs()) {
      const std::vector<float>& values = (*given)[name];
      if (values.empty())
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("missing value for {} input '{}'; pass it with {} {}=VALUE",
                                      columns ? "column" : "row", name, flag, name));
      if (values.size() != 1 && values.size() != points)
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("{} {} has {} values for {} points; give one value, or one per point",
                                      flag, name, values.size(), points));
      arrays.push_back(values.size() == 1 ? std::vector<float>(points, values[0]) : values);
    }
  }
  return arrays;
}

/// --grad: the derivative with respect to each input (dy = 1), one point per
/// line; a gated expression prints "dgate dup".
int print_gradient(const EvalOptions& options, const compiler::KernelSpec& spec,
                   const dsl::ParameterValues& params, const std::vector<std::vector<float>>& columns) {
  auto gradient = compiler::compile_gradient_for_cpu(spec);
  if (!gradient) return report_error(gradient.error());
  auto param_values = ordered_parameters(gradient->partials.front()->parameters(), params);
  if (!param_values) return report_error(param_values.error());
  const std::vector<float> ones(columns[0].size(), 1.0f);
  std::vector<const float*> inputs = {ones.data()};
  for (const auto& column : columns) inputs.push_back(column.data());
  auto operands = operand_arrays(options, *gradient->partials.front(), columns[0].size());
  if (!operands) return report_error(operands.error());
  for (const auto& array : *operands) inputs.push_back(array.data());
  std::vector<std::vector<float>> partials;
  for (const auto& partial : gradient->partials) {
    std::vector<float> out(columns[0].size());
    if (auto ok = partial->evaluate(inputs, *param_values, out); !ok) return report_error(ok.error());
    partials.push_back(std::move(out));
  }
  for (std::size_t i = 0; i < columns[0].size(); ++i) {
    for (std::size_t k = 0; k < partials.size(); ++k) fmt::print("{}{:.9g}", k ? " " : "", partials[k][i]);
    fmt::print("\n");
  }
  return kExitOk;
}

int run_eval(const EvalOptions& options) {
  auto spec = options.expression.kernel_spec();
  if (!spec) return report_error(spec.error());
  auto params = options.expression.parameter_values();
  if (!params) return report_error(params.error());
  auto resolved = dsl::resolve(options.expression.expr, {spec->row_inputs, spec->col_inputs});
  if (!resolved) return report_error(resolved.error());
  const bool gated = resolved->analysis.inputs == dsl::InputKind::Gated;

  std::vector<std::vector<float>> columns;
  if (gated) {
    if (options.gate.empty() || options.up.empty() || !options.x.empty())
      return report_error(make_error(ErrorCode::InvalidInput,
                                     "a gated expression (uses gate/up) takes --gate V,... and --up V,... "
                                     "of equal length, and no --x"));
    for (const auto& [text, name] : {std::pair{options.gate, "--gate"}, {options.up, "--up"}}) {
      auto values = parse_value_list(text, name);
      if (!values) return report_error(values.error());
      columns.push_back(std::move(*values));
    }
    if (columns[0].size() != columns[1].size())
      return report_error(make_error(
          ErrorCode::InvalidInput,
          fmt::format("--gate has {} values but --up has {}; give one up per gate",
                      columns[0].size(), columns[1].size())));
  } else {
    if (options.x.empty() || !options.gate.empty() || !options.up.empty())
      return report_error(make_error(ErrorCode::InvalidInput,
                                     "this expression takes --x V,... (gate/up are only for gated "
                                     "expressions such as \"silu(gate) * up\")"));
    auto values = parse_value_list(options.x, "--x");
    if (!values) return report_error(values.error());
    columns.push_back(std::move(*values));
  }

  if (options.grad) return print_gradient(options, *spec, *params, columns);
  auto cpu = compiler::compile_for_cpu(*spec);
  if (!cpu) return report_error(cpu.error());
  std::vector<float> param_values;
  for (const auto& name : (*cpu)->parameters()) {
    auto it = params->find(name);
    if (it == params->end())
      return report_error(make_error(
          ErrorCode::InvalidInput,
          fmt::format("missing value for parameter '{}'; pass it with --param {}=VALUE", name, name)));
    param_values.push_back(static_cast<float>(it->second));
  }
  for (const auto& [name, value] : *params) {
    const auto& known = (*cpu)->parameters();
    if (std::find(known.begin(), known.end(), name) == known.end())
      return report_error(make_error(
          ErrorCode::InvalidInput,
          fmt::format("--param {}: the expression has no parameter '{}'", name, name)));
  }
  std::vector<float> out(columns[0].size());
  std::vector<const float*> inputs;
  for (const auto& column : columns) inputs.push_back(column.data());
  auto operands = operand_arrays(options, **cpu, columns[0].size());
  if (!operands) return report_error(operands.error());
  for (const auto& array : *operands) inputs.push_back(array.data());
  if (auto ok = (*cpu)->evaluate(inputs, param_values, out); !ok) return report_error(ok.error());
  for (float value : out) fmt::print("{:.9g}\n", value);
  return kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("eval", "evaluate the compiled epilogue on the CPU");
  auto options = std::make_shared<EvalOptions>();
  options->expression.add_to(*cmd, /*with_target_options=*/false);
  cmd->add_option("--x", options->x, "comma-separated inputs for x");
  cmd->add_option("--gate", options->gate, "comma-separated gate inputs (gated expressions)");
  cmd->add_option("--up", options->up, "comma-separated up inputs (gated expressions)");
  cmd->add_flag("--grad", options->grad,
                "print the derivative with respect to each input instead (gated: \"dgate dup\" per line)");
  cmd->callback([options, &exit_code] {
    if (auto loaded = options->expression.load_expression(); !loaded) {
      exit_code = report_error(loaded.error());
      return;
    }
    exit_code = run_eval(*options);
  });
}

}  // namespace tilefuse::cli
