// `tilefuse emit`: print one stage of the compilation of an expression.
#include <fmt/format.h>

#include "CliSupport.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::cli {
namespace {

/// --grad without --stage: the differentiated IR, then its CUDA.
int print_gradient(const compiler::CompiledEpilogue& compiled) {
  fmt::print("// ===== differentiated IR (after the pipeline) =====\n{}", compiled.lowered);
  if (!compiled.lowered.empty() && compiled.lowered.back() != '\n') fmt::print("\n");
  fmt::print("\n// ===== cuda =====\n{}", compiled.cuda);
  return kExitOk;
}

int run_emit(const ExpressionOptions& options, const std::string& stage, bool grad, bool stage_given) {
  auto spec = options.kernel_spec();
  if (!spec) return report_error(spec.error());
  spec->gradient = grad;
  if (stage == "all") {
    auto dump = compiler::dump_all_stages(*spec);
    if (!dump) return report_error(dump.error());
    fmt::print("{}", *dump);
    return kExitOk;
  }
  auto compiled = compiler::compile(*spec);
  if (!compiled) return report_error(compiled.error());
  if (grad && !stage_given) return print_gradient(*compiled);
  // "kernel": the whole translation unit NVRTC compiles (epilogue, tile
  // constants, mainloop include), for reading or compiling by hand.
  const std::string kernel = stage == "kernel" ? ops::gemm_kernel_source(*spec, *compiled) : "";
  const std::string& text = stage == "ast"       ? compiled->ast
                            : stage == "mlir"    ? compiled->mlir
                            : stage == "lowered" ? compiled->lowered
                            : stage == "kernel"  ? kernel
                                                 : compiled->cuda;
  fmt::print("{}", text);
  if (!text.empty() && text.back() != '\n') fmt::print("\n");
  return kExitOk;
}

}  // namespace

void add_emit_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("emit", "print a compilation stage: ast, mlir, lowered, cuda, kernel, all");
  auto options = std::make_shared<ExpressionOptions>();
  auto stage = std::make_shared<std::string>("cuda");
  options->add_to(*cmd, /*with_target_options=*/true);
  options->add_grouped_to(*cmd);
  auto grad = std::make_shared<bool>(false);
  CLI::Option* stage_option =
      cmd->add_option("--stage", *stage,
                      "ast | mlir | lowered | cuda (default: the epilogue) | kernel (the whole fused "
                      "GEMM source NVRTC compiles) | all")
          ->check(CLI::IsMember({"ast", "mlir", "lowered", "cuda", "kernel", "all"}));
  cmd->add_flag("--grad", *grad,
                "compile the backward epilogue(s) (tilefuse-differentiate); without --stage, print "
                "the differentiated IR and its CUDA");
  cmd->callback([options, stage, grad, stage_option, &exit_code] {
    if (auto loaded = options->load_expression(); !loaded) {
      exit_code = report_error(loaded.error());
      return;
    }
    exit_code = run_emit(*options, *stage, *grad, stage_option->count() > 0);
  });
}

}  // namespace tilefuse::cli
