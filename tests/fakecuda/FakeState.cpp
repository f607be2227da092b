// See FakeState.h.
#include "FakeState.h"

namespace tilefuse::fakecuda {

State& state() {
  static State* instance = new State();
  return *instance;
}

thread_local CUctx_st* current_context = nullptr;
namespace {
thread_local unsigned long long thread_number = 0;
std::atomic<unsigned long long> threads_seen{0};
}  // namespace

unsigned long long this_thread() {
  if (!thread_number) thread_number = ++threads_seen;
  return thread_number;
}

void copy_name(char* out, std::size_t size, const std::string& name) {
  std::snprintf(out, size, "%s", name.c_str());
}

bool configure_locked(State& s, const std::string& spec) {
  std::string error;
  auto devices = tilefuse::fakecuda::parse_devices(spec, error);
  if (!devices) {
    s.config_error = "TILEFUSE_FAKE_CUDA_DEVICES: " + error;
    s.devices.clear();
    return false;
  }
  s.config_error.clear();
  s.devices.clear();
  for (const FakeDevice& d : *devices) s.devices.push_back({d, nullptr});
  for (auto& ctx : s.contexts) ctx->destroyed = true;
  for (auto& m : s.modules) m->unloaded = true;
  s.calls.clear();
  s.launches.clear();
  s.attributes.clear();
  s.encodes.clear();
  s.loads.clear();
  return true;
}


}  // namespace tilefuse::fakecuda
