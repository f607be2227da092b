// `tilefuse compile`: JIT-compile the fused kernel through the kernel cache
// and report resources, PTX instruction counts and the time breakdown.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliSupport.h"
#include "runtime/CacheReport.h"
#include "runtime/ops/FusedKernel.h"

namespace tilefuse::cli {
namespace {

struct CompileCliOptions {
  ExpressionOptions expression;
  std::string kernel = "gemm";
  bool bias = false, residual = false, aux = false, b_col_major = false;
  bool json = false;
};

int run_compile(const CompileCliOptions& options) {
  auto spec = options.expression.kernel_spec();
  if (!spec) return report_error(spec.error());
  spec->bias = options.bias;
  spec->residual = options.residual;
  spec->aux = options.aux;
  spec->b_col_major = options.b_col_major;
  const auto kind = options.kernel == "gemm" ? ops::KernelKind::Gemm : ops::KernelKind::Elementwise;
  if (spec->grouped != compiler::GroupLayout::None && kind != ops::KernelKind::Gemm)
    return report_error(make_error(ErrorCode::InvalidInput,
                                   "--grouped builds the grouped GEMM kernel: use --kernel gemm"));
  if (spec->grouped != compiler::GroupLayout::None && spec->arch == compiler::Arch::Sm90a)
    return report_error(make_error(ErrorCode::Unsupported,
                                   "--grouped is not served by the sm_90a (wgmma) kernel yet: use --arch sm_90 "
                                   "(the mma.sync kernel on Hopper)"));
  if ((!spec->row_inputs.empty() || !spec->col_inputs.empty()) && kind != ops::KernelKind::Gemm)
    return report_error(make_error(ErrorCode::Unsupported,
                                   "--row/--col inputs are read by the GEMM kernels only: use --kernel gemm"));

  const auto start = std::chrono::steady_clock::now();
  auto build = ops::build_fused_kernel(*spec, kind, runtime::process_kernel_cache());
  if (!build) return report_error(build.error());
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const runtime::Compiled& compiled = *build->cache.compiled;
  const bool hit = runtime::is_hit(build->cache.outcome);
  if (options.json) {
    // The runtime's view of the compile, plus what only the CLI knows: the
    // whole call's time (emit included), the kernel kind, tile and mode.
    nlohmann::json out = runtime::compile_report(build->cache);
    out["compile_ms"] = total_ms;
    out["timings_ms"]["emit"] = build->emit_ms;
    out["kernel"] = options.kernel;
    out["tile"] = compiler::to_string(build->epilogue.tile);
    out["mode"] = options.expression.mode;
    out["grouped"] = compiler::to_string(spec->grouped);
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print("kernel      {} ({}), tile {}\n", options.kernel, compiled.arch,
             compiler::to_string(build->epilogue.tile));
  fmt::print("cache       {} (key {})\n", runtime::to_string(build->cache.outcome), build->cache.key);
  fmt::print("time        {:.1f} ms: emit {:.1f}, key {:.2f}, lookup {:.2f}, nvrtc {:.1f}, store {:.2f}\n",
             total_ms, build->emit_ms, build->cache.key_ms, build->cache.lookup_ms,
             build->cache.compile_ms, build->cache.store_ms);
  fmt::print("resources   {} registers, {} spill bytes, {} B static shared, {} B stack\n",
             compiled.registers, compiled.spill_bytes, compiled.shared_bytes, compiled.stack_bytes);
  std::string counts;
  for (const auto& [name, count] : compiled.ptx_instructions) counts += fmt::format(" {}={}", name, count);
  fmt::print("ptx        {}\n", counts);
  for (const auto& warning : compiled.performance_warnings) fmt::print("ptxas       {}\n", warning);
  return kExitOk;
}

}  // namespace

void add_compile_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("compile", "JIT-compile the fused kernel (NVRTC, through the cache)");
  auto options = std::make_shared<CompileCliOptions>();
  options->expression.add_to(*cmd, /*with_target_options=*/true);
  options->expression.add_grouped_to(*cmd);
  cmd->add_option("--kernel", options->kernel, "gemm (default): fused GEMM; elementwise: epilogue only")
      ->check(CLI::IsMember({"gemm", "elementwise"}));
  cmd->add_flag("--bias", options->bias, "per-column bias");
  cmd->add_flag("--residual", options->residual, "residual input C (D = act(alpha*AB + bias + beta*C))");
  cmd->add_flag("--aux", options->aux, "also store the pre-activation value (for the backward pass)");
  cmd->add_flag("--b-col-major", options->b_col_major, "B is N x K (PyTorch Linear weight layout)");
  cmd->add_flag("--json", options->json, "print one JSON object");
  cmd->callback([options, &exit_code] {
    if (auto loaded = options->expression.load_expression(); !loaded) {
      exit_code = report_error(loaded.error());
      return;
    }
    exit_code = run_compile(*options);
  });
}

}  // namespace tilefuse::cli
