// See CliSupport.h.
#include "CliSupport.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

namespace tilefuse::cli {

namespace {

// One expression per process: the CLI parses one command line.
std::string& expression_source_name() {
  static std::string name;
  return name;
}

/// True when `message` is a DSL diagnostic, "error: LINE:COL: ..." (the DSL's
/// only positioned messages, dsl/Diagnostic.cpp).
bool starts_with_line_and_column(std::string_view message) {
  constexpr std::string_view kPrefix = "error: ";
  if (message.substr(0, kPrefix.size()) != kPrefix) return false;
  message.remove_prefix(kPrefix.size());
  for (int field = 0; field < 2; ++field) {
    std::size_t digits = 0;
    while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits]))) ++digits;
    if (digits == 0 || digits == message.size() || message[digits] != ':') return false;
    message.remove_prefix(digits + 1);
  }
  return true;
}

}  // namespace

void set_expression_source_name(std::string name) { expression_source_name() = std::move(name); }

int report_error(const Error& error) {
  // Positioned diagnostics already start with "error:"; other messages get it.
  const bool positioned = error.message.rfind("error:", 0) == 0;
  if (!expression_source_name().empty() && starts_with_line_and_column(error.message)) {
    constexpr std::size_t kAfterError = sizeof("error: ") - 1;
    fmt::print(stderr, "error: {}:{}\n", expression_source_name(), error.message.substr(kAfterError));
  } else {
    fmt::print(stderr, "{}{}\n", positioned ? "" : "error: ", error.message);
  }
  if (!error.detail.empty()) fmt::print(stderr, "{}\n", error.detail);
  switch (error.code) {
    case ErrorCode::InvalidInput:
    case ErrorCode::Unsupported:
      return kExitBadInput;
    default:
      return kExitInternal;
  }
}

void ExpressionOptions::add_to(CLI::App& app, bool with_target_options, bool expression_required) {
  expression_required_ = expression_required;
  CLI::Option* text = app.add_option("--expr,-e", expr, "activation expression, e.g. \"x * sigmoid(1.702 * x)\"");
  CLI::Option* file = app.add_option(
      "--expr-file", expr_file,
      "read the expression from FILE ('-': standard input) instead of --expr; for long or "
      "multi-line expressions");
  text->excludes(file);
  file->excludes(text);
  app.add_option("--mode", mode, "precision mode: precise (default) or fast");
  app.add_option("--param,-p", params, "runtime parameter value NAME=VALUE (repeatable)");
  app.add_option("--row", rows,
                 "declare a per-row f32 input NAME (MatmulOptions::row_inputs); NAME=V[,V...] also gives "
                 "its value(s) for eval/check (repeatable)");
  app.add_option("--col", cols,
                 "declare a per-column f32 input NAME (MatmulOptions::col_inputs); NAME=V[,V...] also "
                 "gives its value(s) for eval/check (repeatable)");
  if (with_target_options) {
    app.add_option("--arch", arch, "target architecture: sm_80 (default), sm_86, sm_89, sm_90 (Hopper, mma.sync), sm_90a (Hopper, wgmma)");
    app.add_option("--dtype", dtype, "input dtype: bf16 (default), f16 or e4m3 (FP8: sm_89/sm_90, with --b-col-major)");
    app.add_option("--out-dtype", out_dtype, "output dtype: bf16, f16, f32 or e4m3 (FP8 inputs only) (default: --dtype)");
    app.add_option("--b-dtype", b_dtype, "FP8 only: B's dtype when it differs from --dtype (e5m2)");
    app.add_option("--scale", scale, "FP8 only: scaling of A and B: per-tensor (default) or block128 (docs/fp8.md)");
    app.add_flag("--amax", amax, "FP8 output only: also reduce max |value| of D into an amax output");
  }
}

Expected<void> ExpressionOptions::load_expression() {
  if (expr_file.empty()) {
    if (expr.empty() && expression_required_)
      return make_error(ErrorCode::InvalidInput,
                        "--expr is required: pass the expression as --expr TEXT or --expr-file FILE "
                        "('-' reads standard input)");
    return {};
  }
  const bool from_stdin = expr_file == "-";
  std::ifstream opened;
  if (!from_stdin) opened.open(expr_file, std::ios::binary);
  std::istream& in = from_stdin ? std::cin : opened;
  // errno says why open failed (ifstream does not); read it before anything else runs.
  const int open_errno = errno;
  if (!from_stdin && (!opened.is_open() || std::filesystem::is_directory(expr_file)))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("--expr-file {}: cannot read the file ({}); check the path and "
                                  "its permissions",
                                  expr_file, std::filesystem::is_directory(expr_file)
                                                 ? "it is a directory"
                                                 : std::strerror(open_errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("--expr-file {}: reading it failed", from_stdin ? "-" : expr_file));
  expr = std::move(text).str();
  if (expr.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("--expr-file {}: {} holds no expression", expr_file,
                                  from_stdin ? "standard input" : "the file"));
  set_expression_source_name(from_stdin ? "<stdin>" : expr_file);
  return {};
}

Expected<compiler::KernelSpec> ExpressionOptions::kernel_spec() const {
  compiler::KernelSpec spec;
  spec.expression = expr;
  auto precision = compiler::parse_precision(mode);
  if (!precision) return precision.take_error();
  auto target = compiler::parse_arch(arch);
  if (!target) return target.take_error();
  auto input = compiler::parse_dtype(dtype);
  if (!input) return input.take_error();
  if (*input == compiler::DType::F32)
    return make_error(ErrorCode::InvalidInput,
                      "--dtype f32 is not supported: GEMM inputs are bf16 or f16 (use --out-dtype f32 "
                      "for an fp32 output)");
  auto output = compiler::parse_dtype(out_dtype.empty() ? dtype : out_dtype);
  if (!output) return output.take_error();
  if (!b_dtype.empty()) {
    auto b = compiler::parse_dtype(b_dtype);
    if (!b) return b.take_error();
    spec.b_type = *b;
  }
  auto scaling = compiler::parse_scale_mode(scale);
  if (!scaling) return scaling.take_error();
  spec.scale = *scaling;
  spec.amax = amax;
  for (const auto& [items, names] : {std::pair{&rows, &spec.row_inputs}, {&cols, &spec.col_inputs}})
    for (const auto& item : *items) names->push_back(item.substr(0, item.find('=')));
  spec.precision = *precision;
  spec.arch = *target;
  spec.input_type = *input;
  spec.output_type = *output;
  return spec;
}

Expected<dsl::ParameterValues> ExpressionOptions::parameter_values() const {
  dsl::ParameterValues values;
  for (const auto& item : params) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("--param '{}' is not NAME=VALUE (e.g. --param a=0.2)", item));
    auto parsed = parse_value_list(item.substr(eq + 1), "--param " + item.substr(0, eq));
    if (!parsed) return parsed.take_error();
    if (parsed->size() != 1)
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("--param '{}' takes exactly one value", item));
    values[item.substr(0, eq)] = (*parsed)[0];
  }
  return values;
}

Expected<std::map<std::string, std::vector<float>>> ExpressionOptions::operand_values(bool columns) const {
  const char* flag = columns ? "--col" : "--row";
  std::map<std::string, std::vector<float>> values;
  for (const auto& item : columns ? cols : rows) {
    const auto eq = item.find('=');
    if (eq == 0)
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("{} '{}' has no name; write {} NAME or {} NAME=VALUE", flag, item, flag, flag));
    std::string name = item.substr(0, eq);
    std::vector<float>& list = values[name];
    if (eq == std::string::npos) continue;
    auto parsed = parse_value_list(item.substr(eq + 1), fmt::format("{} {}", flag, name));
    if (!parsed) return parsed.take_error();
    list = std::move(*parsed);
  }
  return values;
}

Expected<std::vector<float>> parse_value_list(const std::string& text, const std::string& option) {
  std::vector<float> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    // Trim spaces so "1, 2" works.
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    float value = 0;
    if (item == "inf" || item == "+inf") {
      value = std::numeric_limits<float>::infinity();
    } else if (item == "-inf") {
      value = -std::numeric_limits<float>::infinity();
    } else if (item == "nan" || item == "-nan") {
      value = std::numeric_limits<float>::quiet_NaN();
    } else {
      const char* first = item.data();
      if (!item.empty() && item[0] == '+') ++first;
      auto [end, ec] = std::from_chars(first, item.data() + item.size(), value);
      if (item.empty() || ec != std::errc() || end != item.data() + item.size())
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("{}: '{}' is not a number (expected e.g. 1.5, -2e-3, inf, nan)",
                                      option, item));
    }
    values.push_back(value);
    start = comma + 1;
  }
  return values;
}

}  // namespace tilefuse::cli
