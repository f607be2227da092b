// `tilefuse tune` end to end with the real compiler (NVRTC, no GPU needed):
// without a GPU it compiles every candidate and fails with NoDevice; with
// --simulate it tunes, remembers, exports and imports.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "unit/cli/CliRunner.h"

namespace tilefuse::tune {
namespace {

using cli::testing::CliResult;
using cli::testing::run_cli;
using cli::testing::TempDir;

/// N = 64 and M = 64 keep the space small (64x64 blocks only): few NVRTC compiles.
const std::vector<std::string> kTune = {"tune", "--expr", "relu(x)", "--shapes", "64x64x256"};

CliResult tune(const TempDir& cache, std::vector<std::string> extra,
               std::optional<std::string> libcuda = "/nonexistent/libcuda.so.1") {
  std::vector<std::string> args = kTune;
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args, {{"TILEFUSE_CACHE_DIR", cache.path().string()},
                        {"TILEFUSE_LIBCUDA", libcuda},
                        {"TILEFUSE_TUNE", std::nullopt}});
}

TEST(TuneCli, WithoutAGpuCompilesEveryCandidateThenFailsWithNoDevice) {
  TempDir cache;
  CliResult r = tune(cache, {});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no CUDA driver/GPU"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("compiled "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(0 failed to compile)"), std::string::npos) << r.err;
  // Not a terminal: one plain progress line per candidate.
  EXPECT_NE(r.out.find("tune 64x64x256: 1/"), std::string::npos) << r.out;
}

TEST(TuneCli, SimulateTunesRemembersExportsAndImports) {
  TempDir cache, other;
  CliResult first = tune(cache, {"--simulate", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto json = nlohmann::json::parse(first.out);
  const auto& result = json["results"].at(0);
  EXPECT_EQ(result["timer"], "simulated");
  EXPECT_EQ(result["shape"], "64x64x256");
  EXPECT_EQ(result["bucket"], "m64_n64_k256");
  EXPECT_GE(result["heuristic_vs_best"].get<double>(), 1.0);
  const std::size_t timed = result["counts"]["timed"].get<std::size_t>();
  EXPECT_GT(timed, 1u);
  for (const auto& config : result["configs"]) EXPECT_EQ(config["tile"]["block_n"], 64);

  // Remembered: a second run times nothing.
  CliResult second = tune(cache, {"--simulate", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto again = nlohmann::json::parse(second.out)["results"].at(0);
  EXPECT_EQ(again["counts"]["timed"], 0);
  EXPECT_EQ(again["counts"]["recorded"], timed);
  EXPECT_EQ(again["chosen"], result["chosen"]);

  // Export, import elsewhere, and choose deterministically from the import.
  const std::string file = (other.path() / "shipped.json").string();
  CliResult exported = run_cli({"tune", "--simulate", "--export", file},
                               {{"TILEFUSE_CACHE_DIR", cache.path().string()}});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  TempDir fresh;
  CliResult imported = run_cli({"tune", "--import", file}, {{"TILEFUSE_CACHE_DIR", fresh.path().string()}});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find(std::to_string(timed) + " records"), std::string::npos) << imported.out;
  CliResult deterministic = run_cli(
      {"tune", "--expr", "relu(x)", "--shapes", "64x64x256", "--simulate", "--json"},
      {{"TILEFUSE_CACHE_DIR", fresh.path().string()}, {"TILEFUSE_TUNE", "deterministic"}});
  ASSERT_EQ(deterministic.exit_code, 0) << deterministic.err;
  const auto chosen = nlohmann::json::parse(deterministic.out)["results"].at(0);
  EXPECT_EQ(chosen["deterministic"], true);
  EXPECT_EQ(chosen["chosen"], result["chosen"]);
  EXPECT_EQ(chosen["counts"]["timed"], 0);
}

TEST(TuneCli, BadInputIsExitTwoAndAMissingImportIsAnIoError) {
  TempDir cache;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"tune"}, {"tune", "--expr", "x", "--shapes", "64x64"},
        {"tune", "--shapes", "64x64x64"}}) {
    CliResult r = run_cli(args, {{"TILEFUSE_CACHE_DIR", cache.path().string()}});
    EXPECT_EQ(r.exit_code, 2) << args.back() << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << args.back();
  }
  CliResult missing = run_cli({"tune", "--import", "/nonexistent/file.json"},
                              {{"TILEFUSE_CACHE_DIR", cache.path().string()}});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/file.json"), std::string::npos) << missing.err;
}

// Grouped (MoE) shapes: --experts E with the shape list, M = the token rows.
// 512 rows over 8 experts = 64 per expert: only 64-row blocks are compiled
// (NVRTC, the grouped kernel) and timed by the simulated timer.
TEST(TuneCli, GroupedShapesAreTunedAndRecordedPerExpertsAndLayout) {
  TempDir cache;
  const std::map<std::string, std::optional<std::string>> env = {{"TILEFUSE_CACHE_DIR", cache.path().string()},
                                                                 {"TILEFUSE_TUNE", std::nullopt}};
  CliResult r = run_cli({"tune", "--expr", "relu(x)", "--shapes", "512x64x256", "--experts", "8", "--simulate",
                         "--json"},
                        env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto result = nlohmann::json::parse(r.out)["results"].at(0);
  EXPECT_EQ(result["bucket"], "contiguous_e8_m512_n64_k256");
  EXPECT_EQ(result["shape"], "512x64x256/e8/contiguous");
  EXPECT_EQ(result["experts"], 8);
  EXPECT_EQ(result["layout"], "contiguous");
  EXPECT_GT(result["counts"]["timed"].get<int>(), 0);
  EXPECT_EQ(result["counts"]["compile_failures"], 0);
  for (const auto& config : result["configs"]) EXPECT_EQ(config["tile"]["block_m"], 64);

  CliResult masked = run_cli({"tune", "--expr", "relu(x)", "--shapes", "64x64x256", "--experts", "8", "--grouped",
                              "masked", "--simulate", "--json"},
                             env);
  ASSERT_EQ(masked.exit_code, 0) << masked.err;
  EXPECT_EQ(nlohmann::json::parse(masked.out)["results"].at(0)["bucket"], "masked_e8_m64_n64_k256");

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--grouped", "masked"}, {"--experts", "8", "--grouped", "none"},
        {"--experts", "0"}, {"--experts", "8", "--grouped", "interleaved"}}) {
    std::vector<std::string> args = {"tune", "--expr", "relu(x)", "--shapes", "64x64x256", "--simulate"};
    args.insert(args.end(), bad.begin(), bad.end());
    CliResult refused = run_cli(args, env);
    EXPECT_EQ(refused.exit_code, 2) << bad.back() << refused.err;
    EXPECT_FALSE(refused.err.empty());
  }
  CliResult no_shapes = run_cli({"tune", "--experts", "8", "--simulate", "--export", "/dev/null"}, env);
  EXPECT_EQ(no_shapes.exit_code, 2) << no_shapes.err;
  EXPECT_NE(no_shapes.err.find("--shapes"), std::string::npos) << no_shapes.err;
}

}  // namespace
}  // namespace tilefuse::tune
