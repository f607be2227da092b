// 04 — tune on this GPU, ship the tuning database, load it deterministically.
//
//   1. Runtime::tune times the candidate tiles of a fused GEMM for the shapes
//      a model uses and records them in this GPU's tuning database (candidates
//      are compiled in parallel while earlier ones are timed).
//   2. Runtime::export_tuning writes the database to a file: ship it with the
//      deployment (or `tilefuse tune --export FILE` from the command line).
//   3. A Runtime with RuntimeOptions::tuning_file uses exactly those choices,
//      with no timing at start-up, identically in every process and rank.
//
// Without a GPU the tuning uses the simulated timer (a deterministic model,
// NOT a measurement; its records go to a "simulated" database), so the whole
// path still runs: compile, record, export, load, choose.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <tilefuse/tilefuse.hpp>

#include "../common/example_support.h"

namespace {

using example::report;

std::string format_ms(const std::optional<double>& ms) {
  return ms ? std::to_string(*ms).substr(0, 8) + " ms" : std::string("-");
}

}  // namespace

int main() {
  const std::string no_gpu = example::why_no_gpu();
  const bool gpu = no_gpu.empty();
  if (!gpu) std::printf("no GPU (%s): tuning with the SIMULATED timer, not a measurement\n", no_gpu.c_str());

  const tilefuse::MatmulOptions gelu_layer{.activation = "gelu(x)", .dtype = tilefuse::DType::BF16, .bias = true};
  // Shapes of one MLP up-projection (d_model 4096 → hidden 14336): a decoding
  // batch and a prefill chunk. Without a GPU one small shape keeps CI quick.
  std::vector<tilefuse::Shape> shapes = {{128, 14336, 4096}, {4096, 14336, 4096}};
  if (!gpu) shapes = {{16, 4096, 4096}};

  // 1. Tune (the default Runtime uses the user cache directory, or $TILEFUSE_CACHE_DIR).
  tilefuse::Runtime tuning;
  auto op = tuning.matmul(gelu_layer);
  if (!op) return report(op.error());
  tilefuse::TuneOptions options;
  options.simulate = !gpu;
  options.budget_s = gpu ? 10.0 : 5.0;  // per shape
  auto tuned = tuning.tune(*op, shapes, options);
  if (!tuned) return report(tuned.error());
  std::printf("%-18s %-8s %-30s %-12s %-12s %s\n", "shape", "arch", "chosen tile", "time", "heuristic", "timed");
  for (const tilefuse::TuneSummary& s : *tuned) {
    const std::string shape = std::to_string(s.shape.m) + "x" + std::to_string(s.shape.n) + "x" + std::to_string(s.shape.k);
    std::printf("%-18s %-8s %-30s %-12s %-12s %zu of %zu in %.1f s\n", shape.c_str(),
                tilefuse::to_string(s.arch), tilefuse::to_string(s.tile).c_str(),
                format_ms(s.ms).c_str(), format_ms(s.heuristic_ms).c_str(), s.timed, s.candidates, s.wall_s);
  }

  // 2. Ship: export the database this tuning wrote.
  const std::filesystem::path shipped = 
      std::filesystem::temp_directory_path() / ("tilefuse-example-tuning-" + std::to_string(::getpid()) + ".json");
  if (auto ok = tuning.export_tuning(shipped.string(), /*simulated=*/!gpu); !ok) return report(ok.error());
  std::printf("exported the tuning database to %s\n", shipped.c_str());

  // 3. Deploy: a runtime that takes its tiles from the shipped file only.
  tilefuse::RuntimeOptions deployed_options;
  deployed_options.tuning_file = shipped.string();
  tilefuse::Runtime deployed(deployed_options);
  auto deployed_op = deployed.matmul(gelu_layer);
  if (!deployed_op) return report(deployed_op.error());
  int mismatches = 0;
  for (const tilefuse::TuneSummary& s : *tuned) {
    auto info = deployed_op->compile(s.shape, s.arch);  // the kernel a launch of this shape uses
    if (!info) return report(info.error());
    const bool same = info->tile == s.tile;
    mismatches += same ? 0 : 1;
    std::printf("deployed: %lldx%lldx%lld uses %s (%s)\n", s.shape.m, s.shape.n, s.shape.k,
                tilefuse::to_string(info->tile).c_str(), same ? "the tuned tile" : "NOT the tuned tile");
  }
  std::filesystem::remove(shipped);
  if (mismatches) return std::fprintf(stderr, "error: the deployed runtime ignored the shipped database\n"), 1;
  std::printf("ok\n");
  return 0;
}
