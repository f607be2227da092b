// `tilefuse doctor` without a CUDA driver (issue 13, item 6): it reports the
// versions and the cache directory, compiles the tiny fused GEMM for every
// architecture (NVRTC really runs: the doctor's cache is memory-only), says
// that the GPU checks were skipped and why, and exits 0 (1 with
// --require-gpu, or when the cache directory is unusable). The driver is
// pointed at a missing library so that the test means the same on a machine
// with a GPU. ~1.5 s per run on the 2-core CI machine (4 NVRTC compiles).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using nlohmann::json;
using testing::CliResult;
using testing::contains;
using testing::TempDir;

CliResult run_doctor_without_driver(const std::filesystem::path& cache_dir, std::vector<std::string> args) {
  args.insert(args.begin(), "doctor");
  return testing::run_cli(args, {{"TILEFUSE_CACHE_DIR", cache_dir.string()},
                                 {"TILEFUSE_LIBCUDA", "/nonexistent/libcuda.so.1"},
                                 {"TILEFUSE_CUDA_DRIVER", "/nonexistent/libcuda.so.1"},
                                 {"TILEFUSE_WATCHDOG", std::nullopt}});
}

TEST(DoctorCli, WithoutADriverCompilesEveryArchitectureAndSaysLaunchesWereSkipped) {
  TempDir dir;
  const CliResult r = run_doctor_without_driver(dir.path() / "cache", {"--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << describe(r);

  EXPECT_FALSE(report["tilefuse_version"].get<std::string>().empty());
  EXPECT_NE(report["nvrtc_version"].get<std::string>().find('.'), std::string::npos);
  EXPECT_FALSE(report["driver"]["loaded"].get<bool>());
  EXPECT_TRUE(contains(report["driver"]["error"].get<std::string>(), "/nonexistent/libcuda.so.1"))
      << report.dump(2);
  EXPECT_TRUE(report["device"].is_null());
  EXPECT_EQ(report["cache"]["directory"], (dir.path() / "cache").string());
  EXPECT_TRUE(report["cache"]["writable"].get<bool>());
  EXPECT_EQ(report["watchdog"], false);
  EXPECT_EQ(report["gpu_checks"], "skipped");
  EXPECT_TRUE(contains(report["gpu_skip_reason"].get<std::string>(), "no driver")) << report.dump(2);
  EXPECT_TRUE(report["passed"].get<bool>());

  // Every architecture, each really compiled (NVRTC time > 0, a tile, no spills), none launched.
  std::vector<std::string> archs;
  for (const json& p : report["paths"]) {
    archs.push_back(p["arch"].get<std::string>());
    EXPECT_TRUE(p["compiled"].get<bool>()) << p.dump(2);
    EXPECT_FALSE(p["launched"].get<bool>()) << p.dump(2);
    EXPECT_TRUE(p["passed"].get<bool>()) << p.dump(2);
    EXPECT_GT(p["compile_ms"].get<double>(), 0.0) << p.dump(2);
    EXPECT_EQ(p["spill_bytes"].get<int>(), 0) << p.dump(2);
    EXPECT_FALSE(p.contains("rel_error")) << "nothing was launched: " << p.dump(2);
  }
  EXPECT_EQ(archs, (std::vector<std::string>{"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"}));
  EXPECT_EQ(report["paths"][0]["kernel_path"], "mma.sync (cp.async multistage)");
  EXPECT_EQ(report["paths"][3]["kernel_path"], "mma.sync (cp.async multistage)") << "sm_90: Hopper's mma.sync kernel";
  EXPECT_EQ(report["paths"][4]["kernel_path"], "wgmma (TMA, warp-specialized)");
}

TEST(DoctorCli, TextSaysWhatWasCheckedAndWhatWasNot) {
  TempDir dir;
  const CliResult r = run_doctor_without_driver(dir.path(), {});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "CUDA driver    not loaded")) << r.out;
  EXPECT_TRUE(contains(r.out, "(writable)")) << r.out;
  EXPECT_TRUE(contains(r.out, "kernel paths (compile only)")) << r.out;
  EXPECT_TRUE(contains(r.out, "ok   sm_90a")) << r.out;
  EXPECT_TRUE(contains(r.out, "ok   sm_80")) << r.out;
  EXPECT_TRUE(contains(r.out, "GPU checks: skipped (no driver")) << r.out;
  EXPECT_TRUE(contains(r.out, "result: ok")) << r.out;
}

TEST(DoctorCli, RequireGpuTurnsTheSkipIntoAFailure) {
  TempDir dir;
  const CliResult r = run_doctor_without_driver(dir.path(), {"--require-gpu", "--json"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  const json report = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << describe(r);
  EXPECT_EQ(report["gpu_checks"], "skipped");
  EXPECT_TRUE(report["require_gpu"].get<bool>());
  EXPECT_FALSE(report["passed"].get<bool>());
  const CliResult text = run_doctor_without_driver(dir.path(), {"--require-gpu"});
  EXPECT_EQ(text.exit_code, 1) << describe(text);
  EXPECT_TRUE(contains(text.out, "result: FAILED (--require-gpu: the GPU checks could not run)")) << text.out;
}

TEST(DoctorCli, UnwritableCacheDirectoryFailsAndSaysWhy) {
  TempDir dir;
  // Under a regular file: no directory can be made there, even as root.
  std::ofstream(dir.path() / "file") << "x";
  const CliResult r = run_doctor_without_driver(dir.path() / "file" / "cache", {});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.out, "NOT writable: cannot create it")) << r.out;
  EXPECT_TRUE(contains(r.out, "result: FAILED")) << r.out;
}

TEST(DoctorCli, UnknownOptionIsAUsageError) {
  const CliResult r = testing::run_cli({"doctor", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
}

}  // namespace
}  // namespace tilefuse::cli
