// The fake driver's control API for tests (see fakecuda.h).
#include <algorithm>
#include <cstring>

#include "FakeState.h"

using namespace tilefuse::fakecuda;

extern "C" {

// ---- the control API ------------------------------------------------------------------

int tf_fake_configure(const char* devices) {
  Locked fake;
  return configure_locked(fake.s, devices ? devices : "8.0") ? 0 : -1;
}

void tf_fake_set_driver_version(int version) { Locked().s.driver_version = version; }
void tf_fake_set_recording(int on) { Locked().s.recording = on != 0; }
void tf_fake_set_kernel_time_ms(float ms) { Locked().s.kernel_time_ms = ms; }

void tf_fake_set_launch_hook(TfFakeLaunchHook hook, void* user) {
  Locked fake;
  fake->hook = hook;
  fake->hook_user = user;
}

int tf_fake_reset_primary_context(int ordinal, int new_handle) {
  Locked fake;
  if (ordinal < 0 || ordinal >= static_cast<int>(fake->devices.size())) return -1;
  Device& d = fake->devices[ordinal];
  if (!d.primary) return 0;
  d.primary->active = false;  // every module loaded in it is stale from now on
  if (new_handle) {
    d.primary->destroyed = true;
    d.primary = nullptr;
  }
  return 0;
}

void tf_fake_clear_log() {
  Locked fake;
  fake->calls.clear();
  fake->launches.clear();
  fake->attributes.clear();
  fake->encodes.clear();
  fake->loads.clear();
}

size_t tf_fake_call_count() { return Locked().s.calls.size(); }
const TfFakeCall* tf_fake_call(size_t i) {
  Locked fake;
  return i < fake->calls.size() ? &fake->calls[i] : nullptr;
}
size_t tf_fake_launch_count() { return Locked().s.launches.size(); }
const TfFakeLaunch* tf_fake_launch(size_t i) {
  Locked fake;
  return i < fake->launches.size() ? &fake->launches[i] : nullptr;
}
size_t tf_fake_func_attribute_count() { return Locked().s.attributes.size(); }
const TfFakeFuncAttribute* tf_fake_func_attribute(size_t i) {
  Locked fake;
  return i < fake->attributes.size() ? &fake->attributes[i] : nullptr;
}
size_t tf_fake_tensor_map_count() { return Locked().s.encodes.size(); }
const TfFakeTensorMapEncode* tf_fake_tensor_map(size_t i) {
  Locked fake;
  return i < fake->encodes.size() ? &fake->encodes[i] : nullptr;
}
size_t tf_fake_module_load_count() { return Locked().s.loads.size(); }
const TfFakeModuleLoad* tf_fake_module_load(size_t i) {
  Locked fake;
  return i < fake->loads.size() ? &fake->loads[i] : nullptr;
}
unsigned long long tf_fake_launches_accepted() { return state().launches_accepted.load(); }

size_t tf_fake_allocation_bytes(const void* ptr) {
  Locked fake;
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  auto it = fake->allocations.upper_bound(p);
  if (it == fake->allocations.begin()) return 0;
  --it;
  return p < it->first + it->second ? it->second : 0;
}

}  // extern "C"
