// Helper modes of the runtime test binary (see HelperProcess.h). They run
// from a static initializer, before GoogleTest, and end the process with
// exit status 0 when every check passed; failures are explained on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "runtime/Driver.h"
#include "runtime/KernelCache.h"
#include "runtime/Module.h"
#include "unit/runtime/SampleEpilogues.h"

namespace tilefuse::runtime::testing {
namespace {

int fail(std::string_view what) {
  fmt::print(stderr, "helper {}: {}\n", ::getpid(), what);
  return 1;
}

// Waits for the parent's start signal so that all helpers race each other.
void wait_for_go(const char* go_file) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(go_file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// TILEFUSE_TEST_HELPER=cache: compile the sample kernel through a cache in
// $TILEFUSE_TEST_CACHE_DIR once $TILEFUSE_TEST_GO exists; print the outcome.
int cache_helper() {
  const char* dir = std::getenv("TILEFUSE_TEST_CACHE_DIR");
  const char* go = std::getenv("TILEFUSE_TEST_GO");
  if (!dir || !go) return fail("TILEFUSE_TEST_CACHE_DIR and TILEFUSE_TEST_GO must be set");
  KernelCacheOptions options;
  options.directory = dir;
  KernelCache cache(options);
  if (!cache.disk()) return fail("the cache directory is not usable");
  wait_for_go(go);
  auto r = cache.get_or_compile(CacheRequest{silu_source("sm_80"), "precise"});
  if (!r) return fail(r.error().message + "\n" + r.error().detail);
  if (r->compiled->cubin.empty() || r->compiled->spill_bytes != 0)
    return fail("compiled kernel has no cubin or spills");
  fmt::print("{}\n", to_string(r->outcome));
  return 0;
}

// TILEFUSE_TEST_HELPER=no-driver (run with TILEFUSE_LIBCUDA pointing at a
// missing file): every GPU path fails with NoDevice, NVRTC still compiles.
int no_driver_helper() {
  auto api = driver();
  if (api) return fail("driver() succeeded with TILEFUSE_LIBCUDA=" + driver_library_path());
  if (api.error().code != ErrorCode::NoDevice) return fail("driver(): " + api.error().message);
  if (api.error().message.find("no CUDA driver/GPU found") == std::string::npos)
    return fail("unclear message: " + api.error().message);
  auto count = device_count();
  if (count || count.error().code != ErrorCode::NoDevice) return fail("device_count()");
  auto info = query_device(0);
  if (info || info.error().code != ErrorCode::NoDevice) return fail("query_device()");
  auto compiled = compile(silu_source("sm_80"));
  if (!compiled) return fail("NVRTC without a driver: " + compiled.error().message);
  auto loaded = Loaded::load(*compiled);
  if (loaded || loaded.error().code != ErrorCode::NoDevice) return fail("Loaded::load()");
  return 0;
}

int run_helper_if_requested() {
  const char* mode = std::getenv("TILEFUSE_TEST_HELPER");
  if (!mode) return 0;
  const std::string_view m = mode;
  int status = m == "cache"       ? cache_helper()
               : m == "no-driver" ? no_driver_helper()
                                  : fail(fmt::format("unknown helper mode '{}'", m));
  std::fflush(stdout);
  std::_Exit(status);  // not exit(): no GoogleTest, no static destructors racing threads
}

[[maybe_unused]] const int helper_ran = run_helper_if_requested();

}  // namespace
}  // namespace tilefuse::runtime::testing
