// `tilefuse emit`: print one stage of the compilation of an expression.
#include <fmt/format.h>

#include "CliSupport.h"

namespace tilefuse::cli {
namespace {

int run_emit(const ExpressionOptions& options, const std::string& stage) {
  auto spec = options.kernel_spec();
  if (!spec) return report_error(spec.error());
  if (stage == "all") {
    auto dump = compiler::dump_all_stages(*spec);
    if (!dump) return report_error(dump.error());
    fmt::print("{}", *dump);
    return kExitOk;
  }
  auto compiled = compiler::compile(*spec);
  if (!compiled) return report_error(compiled.error());
  const std::string& text = stage == "ast"       ? compiled->ast
                            : stage == "mlir"    ? compiled->mlir
                            : stage == "lowered" ? compiled->lowered
                                                 : compiled->cuda;
  fmt::print("{}", text);
  if (!text.empty() && text.back() != '\n') fmt::print("\n");
  return kExitOk;
}

}  // namespace

void add_emit_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("emit", "print a compilation stage: ast, mlir, lowered, cuda, all");
  auto options = std::make_shared<ExpressionOptions>();
  auto stage = std::make_shared<std::string>("cuda");
  options->add_to(*cmd, /*with_target_options=*/true);
  cmd->add_option("--stage", *stage, "ast | mlir | lowered | cuda (default) | all")
      ->check(CLI::IsMember({"ast", "mlir", "lowered", "cuda", "all"}));
  cmd->callback([options, stage, &exit_code] { exit_code = run_emit(*options, *stage); });
}

}  // namespace tilefuse::cli
