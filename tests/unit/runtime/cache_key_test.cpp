// The cache key changes with every component and only with them.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <set>

#include "runtime/CacheKey.h"
#include "unit/runtime/SampleEpilogues.h"

namespace tilefuse::runtime {
namespace {

CacheKeyInputs base_inputs() {
  return CacheKeyInputs{.source = "extern \"C\" __global__ void k() {}",
                        .embedded_headers = "tilefuse/a.cuh:3\nabc",
                        .nvrtc_version = "13.0",
                        .arch = "sm_80",
                        .options = "--gpu-architecture=sm_80\n-std=c++17\n",
                        .precision_mode = "precise",
                        .tilefuse_version = "0.1.0"};
}

TEST(CacheKey, Is32HexDigitsAndDeterministic) {
  const std::string key = cache_key(base_inputs());
  ASSERT_EQ(key.size(), 32u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
  EXPECT_EQ(cache_key(base_inputs()), key);
}

TEST(CacheKey, EveryComponentChangesTheKey) {
  std::set<std::string> keys = {cache_key(base_inputs())};
  std::string_view CacheKeyInputs::*fields[] = {
      &CacheKeyInputs::source,         &CacheKeyInputs::embedded_headers,
      &CacheKeyInputs::nvrtc_version,  &CacheKeyInputs::arch,
      &CacheKeyInputs::options,        &CacheKeyInputs::precision_mode,
      &CacheKeyInputs::tilefuse_version};
  for (auto field : fields) {
    CacheKeyInputs in = base_inputs();
    const std::string changed = std::string(in.*field) + "x";
    in.*field = changed;
    EXPECT_TRUE(keys.insert(cache_key(in)).second) << "a changed field kept an old key";
  }
}

TEST(CacheKey, FieldBoundariesMatter) {
  // Moving bytes from one field to the next must not collide.
  CacheKeyInputs a = base_inputs(), b = base_inputs();
  a.arch = "sm_80";
  a.options = "x";
  b.arch = "sm_80x";
  b.options = "";
  EXPECT_NE(cache_key(a), cache_key(b));
}

TEST(CacheKey, SourceLevelKeyFollowsSourceOptionsAndMode) {
  const Source s = testing::silu_source("sm_80");
  const std::string key = cache_key(s, "precise");
  EXPECT_EQ(cache_key(s, "precise"), key);
  EXPECT_NE(cache_key(s, "fast"), key);

  Source other_arch = s;
  other_arch.options.arch = "sm_90a";
  EXPECT_NE(cache_key(other_arch, "precise"), key);

  Source other_option = s;
  other_option.options.extra = {"--use_fast_math"};
  EXPECT_NE(cache_key(other_option, "precise"), key);

  Source other_code = s;
  other_code.code += "\n";
  EXPECT_NE(cache_key(other_code, "precise"), key);

  Source other_kernels = s;
  other_kernels.kernel_names.push_back("other");
  EXPECT_NE(cache_key(other_kernels, "precise"), key);

  Source other_name = s;  // the diagnostic file name does not change the bytes
  other_name.name = "renamed.cu";
  EXPECT_EQ(cache_key(other_name, "precise"), key);
}

TEST(CacheKey, OptionsFromTheEnvironmentAreCompiledAndKeyed) {
  const Source s = testing::silu_source("sm_80");
  ASSERT_EQ(::unsetenv("TILEFUSE_NVRTC_OPTIONS"), 0);
  const std::string key = cache_key(s, "precise");
  const std::vector<std::string> plain = nvrtc_options(s.options);

  ASSERT_EQ(::setenv("TILEFUSE_NVRTC_OPTIONS", "  --Ofast-compile=min \t -lineinfo ", 1), 0);
  const std::vector<std::string> with_env = nvrtc_options(s.options);
  const std::string env_key = cache_key(s, "precise");
  ASSERT_EQ(::unsetenv("TILEFUSE_NVRTC_OPTIONS"), 0);

  ASSERT_EQ(with_env.size(), plain.size() + 2);
  EXPECT_EQ(with_env[plain.size()], "--Ofast-compile=min");
  EXPECT_EQ(with_env[plain.size() + 1], "-lineinfo");
  EXPECT_NE(env_key, key);
  EXPECT_EQ(cache_key(s, "precise"), key);
}

}  // namespace
}  // namespace tilefuse::runtime
