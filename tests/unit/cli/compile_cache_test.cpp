// `tilefuse compile` through the kernel cache, as separate processes share it:
// the issue-3 bar (miss, then hit at ≤ 0.1× the time, garbage entries
// recompiled with a warning), the fused GEMM's PTX, `cache ls|stats|clear`,
// and an unusable cache directory.
//
// NVRTC compiles of the GEMM take seconds on a 2-core machine, so only the
// bar test compiles it (twice); the others use the small element-wise kernel.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::CliResult;
using testing::run_cli_with_cache;
using testing::TempDir;

// stdout as JSON; a test failure (and null) when it is not.
json parse_json(const CliResult& r) {
  json parsed = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) ADD_FAILURE() << "stdout is not JSON:\n" << describe(r);
  return parsed;
}

std::vector<fs::path> regular_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

int count_lines_containing(const std::string& text, const std::string& part) {
  int n = 0;
  for (const auto& line : testing::lines_of(text)) n += line.find(part) != std::string::npos;
  return n;
}

void expect_no_spills_and_tensor_core_ptx(const json& report) {
  EXPECT_EQ(report.at("spill_bytes").get<int>(), 0) << report.dump(2);
  EXPECT_GT(report.at("registers").get<int>(), 0) << report.dump(2);
  const json& ptx = report.at("ptx_instructions");
  for (const char* used : {"mma_sync", "ldmatrix", "cp_async"})
    EXPECT_GT(ptx.at(used).get<int>(), 0) << used << " missing: " << ptx.dump();
  for (const char* absent : {"ld_local", "st_local"})
    EXPECT_EQ(ptx.at(absent).get<int>(), 0) << absent << " present: " << ptx.dump();
}

// The bar from issue 3, with the fused GEMM (the default kernel) for sm_80.
TEST(CliCompile, MissThenHitThenGarbageIsRecompiled) {
  TempDir cache;
  const std::vector<std::string> args = {"compile", "--expr",  "x * sigmoid(1.702 * x)",
                                         "--arch",  "sm_80",   "--json"};

  const CliResult first = run_cli_with_cache(cache.path(), args);
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  EXPECT_EQ(first.err, "") << "a clean first compile must not warn";
  const json cold = parse_json(first);
  ASSERT_TRUE(cold.is_object());
  EXPECT_EQ(cold.at("cache"), "miss");
  EXPECT_EQ(cold.at("arch"), "sm_80");
  EXPECT_EQ(cold.at("kernel"), "gemm");
  expect_no_spills_and_tensor_core_ptx(cold);
  EXPECT_GT(cold.at("timings_ms").at("nvrtc").get<double>(), 0.0);

  const CliResult second = run_cli_with_cache(cache.path(), args);
  ASSERT_EQ(second.exit_code, 0) << describe(second);
  EXPECT_EQ(second.err, "");
  const json warm = parse_json(second);
  ASSERT_TRUE(warm.is_object());
  EXPECT_EQ(warm.at("cache"), "hit");
  EXPECT_EQ(warm.at("cache_detail"), "disk-hit");  // a new process: memory is empty
  EXPECT_EQ(warm.at("key"), cold.at("key"));
  EXPECT_EQ(warm.at("timings_ms").at("nvrtc").get<double>(), 0.0);
  expect_no_spills_and_tensor_core_ptx(warm);
  const double cold_ms = cold.at("compile_ms").get<double>();
  const double warm_ms = warm.at("compile_ms").get<double>();
  EXPECT_LE(warm_ms, 0.1 * cold_ms) << "warm " << warm_ms << " ms vs cold " << cold_ms << " ms";

  const auto files = regular_files(cache.path());
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << "this is not a tilefuse kernel cache entry\n";
  }

  const CliResult third = run_cli_with_cache(cache.path(), args);
  ASSERT_EQ(third.exit_code, 0) << describe(third);
  const json recompiled = parse_json(third);
  ASSERT_TRUE(recompiled.is_object());
  EXPECT_EQ(recompiled.at("cache"), "miss");
  EXPECT_EQ(recompiled.at("key"), cold.at("key"));
  expect_no_spills_and_tensor_core_ptx(recompiled);
  EXPECT_EQ(count_lines_containing(third.err, "tilefuse: warning: ignoring a bad kernel cache entry"), 1)
      << third.err;

  // The bad entry was replaced by a good one.
  const CliResult ls = run_cli_with_cache(cache.path(), {"cache", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << describe(ls);
  const json entries = parse_json(ls);
  ASSERT_TRUE(entries.is_array());
  ASSERT_EQ(entries.size(), 1u) << entries.dump(2);
  EXPECT_EQ(entries[0].at("key"), cold.at("key"));
  EXPECT_TRUE(entries[0].at("valid").get<bool>()) << entries.dump(2);
}

TEST(CliCache, LsStatsClearDescribeTheEntriesCompileLeft) {
  TempDir root;
  // Not there yet: compile creates it, owner-only.
  const fs::path cache = root.path() / "nested" / "cache";
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const CliResult r = run_cli_with_cache(
        cache, {"compile", "--expr", "gelu", "--kernel", "elementwise", "--arch", arch, "--json"});
    ASSERT_EQ(r.exit_code, 0) << arch << "\n" << describe(r);
    EXPECT_EQ(r.err, "");
    const json report = parse_json(r);
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report.at("arch"), arch);
    EXPECT_EQ(report.at("kernel"), "elementwise");
    EXPECT_EQ(report.at("cache"), "miss");
    EXPECT_EQ(report.at("spill_bytes").get<int>(), 0);
    EXPECT_EQ(report.at("ptx_instructions").at("mma_sync").get<int>(), 0);  // no GEMM in it
  }
  EXPECT_EQ(fs::status(cache).permissions() & fs::perms::all, fs::perms::owner_all);

  const CliResult ls = run_cli_with_cache(cache, {"cache", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << describe(ls);
  const json entries = parse_json(ls);
  ASSERT_TRUE(entries.is_array());
  ASSERT_EQ(entries.size(), 2u) << entries.dump(2);
  std::vector<std::string> arches;
  uint64_t total_bytes = 0;
  for (const auto& e : entries) {
    EXPECT_TRUE(e.at("valid").get<bool>()) << e.dump(2);
    EXPECT_EQ(e.at("kernels"), json::array({"tf_elementwise"})) << e.dump(2);
    EXPECT_EQ(fs::path(e.at("path").get<std::string>()).parent_path(), cache);
    EXPECT_EQ(e.at("bytes").get<uint64_t>(), fs::file_size(e.at("path").get<std::string>()));
    arches.push_back(e.at("arch"));
    total_bytes += e.at("bytes").get<uint64_t>();
  }
  std::sort(arches.begin(), arches.end());
  EXPECT_EQ(arches, (std::vector<std::string>{"sm_80", "sm_90a"}));

  const CliResult ls_text = run_cli_with_cache(cache, {"cache", "ls"});
  ASSERT_EQ(ls_text.exit_code, 0) << describe(ls_text);
  EXPECT_NE(ls_text.out.find("2 entries in " + cache.string()), std::string::npos) << ls_text.out;
  EXPECT_NE(ls_text.out.find("tf_elementwise"), std::string::npos) << ls_text.out;

  const CliResult stats = run_cli_with_cache(cache, {"cache", "stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << describe(stats);
  const json s = parse_json(stats);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s.at("directory"), cache.string());
  EXPECT_EQ(s.at("entries").get<uint64_t>(), 2u);
  EXPECT_EQ(s.at("bytes").get<uint64_t>(), total_bytes);
  EXPECT_EQ(s.at("max_bytes").get<uint64_t>(), uint64_t{1} << 30);  // the default bound

  const CliResult clear = run_cli_with_cache(cache, {"cache", "clear", "--json"});
  ASSERT_EQ(clear.exit_code, 0) << describe(clear);
  EXPECT_EQ(parse_json(clear), json({{"removed", 2}}));

  const CliResult after = run_cli_with_cache(cache, {"cache", "stats", "--json"});
  ASSERT_EQ(after.exit_code, 0) << describe(after);
  const json empty = parse_json(after);
  ASSERT_TRUE(empty.is_object());
  EXPECT_EQ(empty.at("entries").get<uint64_t>(), 0u);
  EXPECT_EQ(empty.at("bytes").get<uint64_t>(), 0u);
}

TEST(CliCache, StatsHonoursTheConfiguredBound) {
  TempDir cache;
  const CliResult r = testing::run_cli({"cache", "stats", "--json"},
                                       {{"TILEFUSE_CACHE_DIR", cache.path().string()},
                                        {"TILEFUSE_CACHE_MAX_BYTES", "512M"}});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json s = parse_json(r);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s.at("max_bytes").get<uint64_t>(), uint64_t{512} << 20);
}

TEST(CliCache, UnknownActionExitsTwo) {
  TempDir cache;
  const CliResult r = run_cli_with_cache(cache.path(), {"cache", "purge"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("purge"), std::string::npos) << r.err;
}

// A directory no file can be created in. chmod 0500 does not stop root (the
// tests may run as root), so then a path below a regular file is used: that
// can never become a directory.
fs::path unusable_cache_dir(const TempDir& root) {
  const fs::path locked = root.path() / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  const bool chmod_blocks = ::access(locked.c_str(), W_OK) != 0;
  if (chmod_blocks) return locked / "cache";
  const fs::path file = root.path() / "a-regular-file";
  std::ofstream(file) << "not a directory\n";
  return file / "cache";
}

TEST(CliCompile, UnusableCacheDirectoryStillCompilesAndWarnsOnce) {
  TempDir root;
  const fs::path cache = unusable_cache_dir(root);
  const CliResult r = run_cli_with_cache(
      cache, {"compile", "--expr", "silu(gate) * up", "--kernel", "elementwise", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = parse_json(r);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report.at("cache"), "miss");
  EXPECT_EQ(report.at("spill_bytes").get<int>(), 0);
  EXPECT_EQ(count_lines_containing(r.err, "tilefuse: warning:"), 1) << r.err;
  EXPECT_NE(r.err.find(cache.string()), std::string::npos) << "the warning names the directory: " << r.err;
  EXPECT_NE(r.err.find("memory only"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(cache));

  // `cache ls` has nothing to show there: an error naming the directory.
  const CliResult ls = run_cli_with_cache(cache, {"cache", "ls"});
  EXPECT_NE(ls.exit_code, 0) << describe(ls);
  EXPECT_NE(ls.exit_code, -1) << "must exit, not crash: " << describe(ls);
  EXPECT_NE(ls.err.find(cache.string()), std::string::npos) << ls.err;
}

TEST(CliCompile, BadArchitectureExitsTwoBeforeCompiling) {
  TempDir cache;
  const CliResult r =
      run_cli_with_cache(cache.path(), {"compile", "--expr", "gelu", "--arch", "sm_75", "--json"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("sm_75"), std::string::npos) << r.err;
  EXPECT_TRUE(regular_files(cache.path()).empty());
}

}  // namespace
}  // namespace tilefuse::cli
