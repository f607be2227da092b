// `tilefuse tune`: autotune the fused GEMM for one or more shapes on this GPU
// (or with --simulate, on the simulated timer), remember the results in the
// per-GPU tuning database, and ship databases with --export / --import.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliSupport.h"
#include "compiler/Target/TargetInfo.h"
#include "runtime/DiskStore.h"
#include "runtime/KernelCache.h"
#include "runtime/tune/CandidateCompiler.h"
#include "runtime/api/GpuTimer.h"
#include "runtime/tune/SimulatedTimer.h"
#include "runtime/tune/TuneReport.h"
#include "runtime/tune/Tuner.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::cli {
namespace {

struct TuneCliOptions {
  ExpressionOptions expression;
  std::string shapes;
  std::optional<double> budget_s;
  bool json = false, simulate = false, deterministic = false, retime = false;
  bool bias = false, residual = false, aux = false, b_col_major = false;
  std::size_t top = 10;
  std::string export_file, import_file;
  bool arch_given = false;
};

/// "[#########...........]  12/40  ETA 3.1 s" redrawn in place on a terminal;
/// one plain line per candidate otherwise (logs, CI, --json on stderr).
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool terminal, std::string label)
      : out_(out), terminal_(terminal), label_(std::move(label)) {}
  ~ProgressPrinter() {
    if (terminal_ && drawn_) fmt::print(out_, "\n");
  }
  void operator()(const tune::TuneProgress& p) {
    const std::string time = p.last && p.last->time_ms ? fmt::format("{:.4f} ms", *p.last->time_ms)
                                                       : std::string(p.last ? tune::to_string(p.last->status) : "");
    if (!terminal_) {
      fmt::print(out_, "tune {}: {}/{} {} {}\n", label_, p.done, p.total,
                 p.last ? tune::to_string(p.last->candidate) : "", time);
      std::fflush(out_);
      return;
    }
    constexpr int kWidth = 30;
    const int filled = p.total ? static_cast<int>(kWidth * p.done / p.total) : kWidth;
    fmt::print(out_, "\r{} [{}{}] {}/{}  elapsed {:.1f} s  ETA {:.1f} s ", label_,
               std::string(filled, '#'), std::string(kWidth - filled, '.'), p.done, p.total,
               p.elapsed_s, p.eta_s);
    std::fflush(out_);
    drawn_ = true;
  }

 private:
  std::FILE* out_;
  bool terminal_;
  std::string label_;
  bool drawn_ = false;
};

Expected<std::filesystem::path> cache_dir() { return runtime::default_cache_dir(); }

/// The architecture to tune for: --arch, else the GPU's, else sm_80 (no GPU:
/// candidates are still compiled before the timer reports NoDevice).
Expected<compiler::Arch> tuning_arch(const TuneCliOptions& o, tune::KernelTimer& timer) {
  if (o.arch_given || o.simulate) return compiler::parse_arch(o.expression.arch);
  if (!timer.ready()) return compiler::Arch::Sm80;
  auto info = runtime::query_device(0);
  if (!info) return info.take_error();
  auto arch = runtime::arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch) return arch.take_error();
  return compiler::parse_arch(*arch);
}

int run_tune(const TuneCliOptions& o) {
  if (o.shapes.empty() && o.import_file.empty() && o.export_file.empty())
    return report_error(make_error(ErrorCode::InvalidInput,
                                   "tilefuse tune needs --shapes MxNxK[,...] (with --expr), "
                                   "--import FILE or --export FILE"));
  auto dir = cache_dir();
  if (!dir) return report_error(dir.error());
  nlohmann::json report = nlohmann::json::object();

  if (!o.import_file.empty()) {
    auto imported = tune::import_tuning_db(*dir, o.import_file);
    if (!imported) return report_error(imported.error());
    report["import"] = {{"file", o.import_file},
                        {"database", imported->database.string()},
                        {"device", tune::device_key(imported->device)},
                        {"records", imported->records},
                        {"changed", imported->changed}};
    if (!o.json)
      fmt::print("imported {} records ({} new or newer) into {}\n", imported->records,
                 imported->changed, imported->database.string());
  }

  tune::SimulatedTimer simulated;
  tune::GpuTimer gpu;
  tune::KernelTimer& timer = o.simulate ? static_cast<tune::KernelTimer&>(simulated) : gpu;

  if (!o.shapes.empty()) {
    if (o.expression.expr.empty())
      return report_error(
          make_error(ErrorCode::InvalidInput, "tilefuse tune --shapes needs --expr (or --expr-file)"));
    auto shapes = tune::parse_shape_list(o.shapes);
    if (!shapes) return report_error(shapes.error());
    auto spec = o.expression.kernel_spec();
    if (!spec) return report_error(spec.error());
    if (!spec->row_inputs.empty() || !spec->col_inputs.empty())
      return report_error(make_error(ErrorCode::Unsupported,
                                     "tilefuse tune does not take --row/--col inputs yet (Runtime::tune "
                                     "neither): such ops launch with the heuristic tile"));
    if (is_fp8(spec->input_type))
      return report_error(make_error(ErrorCode::Unsupported,
                                     "tilefuse tune does not tune FP8 ops yet (Runtime::tune neither): they "
                                     "launch with the heuristic tile"));
    auto arch = tuning_arch(o, timer);
    if (!arch) return report_error(arch.error());
    spec->arch = *arch;
    spec->bias = o.bias;
    spec->residual = o.residual;
    spec->aux = o.aux;
    spec->b_col_major = o.b_col_major;
    auto gated = tune::is_gated(*spec);
    if (!gated) return report_error(gated.error());

    auto target = compiler::make_target(*arch);
    tune::CacheCandidateCompiler compiler(runtime::process_kernel_cache());
    const bool terminal = !o.json && ::isatty(STDOUT_FILENO);
    nlohmann::json results = nlohmann::json::array();
    for (const tune::ProblemShape& shape : *shapes) {
      tune::TunerOptions options;
      options.budget_s = o.budget_s;
      options.deterministic = o.deterministic || tune::deterministic_from_environment();
      options.retime = o.retime;
      options.cache_dir = *dir;
      options.log = [](const std::string& line) { fmt::print(stderr, "warning: {}\n", line); };
      Expected<tune::TuneResult> result = make_error(ErrorCode::Internal, "not tuned");
      {  // the progress bar ends (newline) before the table is printed
        ProgressPrinter progress(o.json ? stderr : stdout, terminal, tune::to_string(shape));
        options.on_progress = [&progress](const tune::TuneProgress& p) { progress(p); };
        tune::Tuner tuner(compiler, timer, options);
        result = tuner.tune({*spec, shape, *gated}, *target);
      }
      if (!result) return report_error(result.error());
      if (o.json) results.push_back(tune::to_json(*result));
      else fmt::print("{}\n", tune::format_table(*result, o.top));
    }
    report["results"] = std::move(results);
  }

  if (!o.export_file.empty()) {
    auto device = timer.device();
    if (!device) return report_error(device.error());
    auto exported = tune::export_tuning_db(tune::tuning_db_path(*dir, *device), *device, o.export_file);
    if (!exported) return report_error(exported.error());
    report["export"] = {{"file", o.export_file}, {"device", tune::device_key(*device)}};
    if (!o.json) fmt::print("exported the tuning database of {} to {}\n", tune::device_key(*device), o.export_file);
  }
  if (o.json) fmt::print("{}\n", report.dump(2));
  return kExitOk;
}

}  // namespace

void add_tune_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand(
      "tune", "autotune the fused GEMM's tile for shapes on this GPU; per-GPU tuning database");
  auto options = std::make_shared<TuneCliOptions>();
  // --import / --export alone need no expression.
  options->expression.add_to(*cmd, /*with_target_options=*/true, /*expression_required=*/false);
  cmd->add_option("--shapes", options->shapes, "problem shapes MxNxK[,MxNxK...], e.g. 128x14336x4096");
  cmd->add_option("--budget-s", options->budget_s,
                  "stop timing new candidates after this many seconds (per shape)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--top", options->top, "configs shown in the table (default 10)");
  cmd->add_flag("--json", options->json, "print one JSON object (progress goes to stderr)");
  cmd->add_option("--export", options->export_file, "write this GPU's tuning database to FILE");
  cmd->add_option("--import", options->import_file,
                  "merge an exported database into the cache (no GPU needed)");
  cmd->add_flag("--simulate", options->simulate,
                "time with the simulated timer instead of the GPU (testing and demos; records go "
                "to the 'simulated' database)");
  cmd->add_flag("--deterministic", options->deterministic,
                "use recorded choices only, never time (also TILEFUSE_TUNE=deterministic)");
  cmd->add_flag("--retime", options->retime, "time again configs the database already has");
  cmd->add_flag("--bias", options->bias, "per-column bias");
  cmd->add_flag("--residual", options->residual, "residual input C");
  cmd->add_flag("--aux", options->aux, "also store the pre-activation value");
  cmd->add_flag("--b-col-major", options->b_col_major, "B is N x K (PyTorch Linear weight layout)");
  cmd->callback([cmd, options, &exit_code] {
    options->arch_given = cmd->count("--arch") > 0;
    if (auto loaded = options->expression.load_expression(); !loaded) {
      exit_code = report_error(loaded.error());
      return;
    }
    exit_code = run_tune(*options);
  });
}

}  // namespace tilefuse::cli
