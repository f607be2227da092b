// The fake driver's state (see fakecuda.h): the objects behind its handles,
// one mutex over everything, and the call log. Every entry point takes the
// lock through Locked, decides its result the way the real driver documents
// it, records the call and returns (FAKE_DONE).
#pragma once

#include <cuda.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "FakeDevices.h"
#include "KernelImage.h"
#include "fakecuda.h"

// The driver's opaque handle types, defined here (cuda.h only declares them).
struct CUctx_st {
  int device = 0;
  unsigned long long id = 0;  ///< what cuCtxGetId returns; new after a reset
  bool active = true;         ///< false after a primary-context reset, until retained
  bool destroyed = false;     ///< a reset that gave the device a new handle
  double legacy_clock_ms = 0; ///< the default stream's simulated time
};

struct CUmod_st {
  CUctx_st* context = nullptr;
  unsigned long long context_id = 0;
  bool unloaded = false;
  tilefuse::fakecuda::KernelImage image;
  std::string arch;
  std::map<std::string, std::unique_ptr<CUfunc_st>> functions;
};

struct CUfunc_st {
  CUmod_st* module = nullptr;
  std::string name;
  const tilefuse::fakecuda::KernelInfo* info = nullptr;
  int max_dynamic_shared = 0;
};

struct CUstream_st {
  CUctx_st* context = nullptr;
  double clock_ms = 0;
};

struct CUevent_st {
  double time_ms = 0;
  bool recorded = false;
};

namespace tilefuse::fakecuda {

struct Device {
  FakeDevice spec;
  CUctx_st* primary = nullptr;
};

struct State {
  std::mutex mutex;
  bool initialized = false;
  int driver_version = 13000;
  bool recording = true;
  float kernel_time_ms = 0.01f;
  TfFakeLaunchHook hook = nullptr;
  void* hook_user = nullptr;
  std::vector<Device> devices;
  std::string config_error;
  unsigned long long next_context_id = 1;
  unsigned long long seq = 0;
  // Objects are never freed (a test fake): a stale handle stays readable, so
  // using it is reported as the error the real driver gives, not a crash.
  std::vector<std::unique_ptr<CUctx_st>> contexts;
  std::vector<std::unique_ptr<CUmod_st>> modules;
  std::unordered_set<const CUctx_st*> context_set;
  std::unordered_set<const CUmod_st*> module_set;
  std::unordered_set<const CUfunc_st*> function_set;
  std::unordered_set<const CUstream_st*> stream_set;
  std::unordered_set<const CUevent_st*> event_set;
  std::map<std::uintptr_t, std::size_t> allocations;  // base → bytes
  std::deque<TfFakeCall> calls;
  std::deque<TfFakeLaunch> launches;
  std::deque<TfFakeFuncAttribute> attributes;
  std::deque<TfFakeTensorMapEncode> encodes;
  std::deque<TfFakeModuleLoad> loads;
  std::atomic<unsigned long long> launches_accepted{0};
};

/// The one state of the process (never destroyed: calls may come during exit).
State& state();
/// The calling thread's current context; a reset does not clear it (the real driver does not either).
extern thread_local CUctx_st* current_context;
/// A number per calling thread: 1, 2, ... in the order of their first call.
unsigned long long this_thread();
void copy_name(char* out, std::size_t size, const std::string& name);
/// Replaces the devices and forgets every object and record; false for a bad spec.
bool configure_locked(State& s, const std::string& spec);

struct Locked {
  State& s;
  std::lock_guard<std::mutex> lock;
  Locked() : s(state()), lock(s.mutex) {
    static bool configured = false;
    if (configured) return;
    configured = true;
    const char* devices = std::getenv("TILEFUSE_FAKE_CUDA_DEVICES");
    configure_locked(s, devices && *devices ? devices : "8.0");
    if (const char* version = std::getenv("TILEFUSE_FAKE_CUDA_DRIVER_VERSION"))
      s.driver_version = std::atoi(version);
  }
  State* operator->() { return &s; }

  CUresult done(const char* name, CUresult result) {
    if (s.recording) {
      TfFakeCall call{};
      call.seq = s.seq++;
      copy_name(call.name, sizeof(call.name), name);
      call.context = current_context;
      call.thread = this_thread();
      call.result = result;
      s.calls.push_back(call);
    }
    return result;
  }

  /// Why the current context cannot be used (CUDA_SUCCESS if it can).
  CUresult current_usable() const {
    if (!s.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!current_context) return CUDA_ERROR_INVALID_CONTEXT;
    if (current_context->destroyed || !current_context->active) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    return CUDA_SUCCESS;
  }

  bool function_usable(const CUfunc_st* f) const {
    if (!f || !s.function_set.count(f)) return false;
    const CUmod_st* m = f->module;
    return !m->unloaded && m->context->active && !m->context->destroyed && m->context->id == m->context_id;
  }

  /// The allocation holding [ptr, ptr + bytes), or false.
  bool in_allocation(std::uintptr_t ptr, std::size_t bytes) const {
    auto it = s.allocations.upper_bound(ptr);
    if (it == s.allocations.begin()) return false;
    --it;
    return ptr >= it->first && ptr + bytes <= it->first + it->second;
  }
};

inline unsigned long long next_seq(State& s) { return s.seq++; }

}  // namespace tilefuse::fakecuda

/// Records the entry point's call (under its exported name) and returns `result`.
#define FAKE_DONE(result) return fake.done(__func__, (result))
