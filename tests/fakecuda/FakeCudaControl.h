// The fake driver's control API (fakecuda.h) reached through dlsym on the
// library the process loads as its CUDA driver, so that the test and
// tilefuse's runtime talk to the same instance.
#pragma once

#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "fakecuda.h"

namespace tilefuse::fakecuda {

#define TILEFUSE_FAKECUDA_CONTROL(X)                                                                 \
  X(tf_fake_configure)                                                                               \
  X(tf_fake_set_driver_version)                                                                      \
  X(tf_fake_set_recording)                                                                           \
  X(tf_fake_set_launch_hook)                                                                         \
  X(tf_fake_set_kernel_time_ms)                                                                      \
  X(tf_fake_reset_primary_context)                                                                   \
  X(tf_fake_clear_log)                                                                               \
  X(tf_fake_call_count)                                                                              \
  X(tf_fake_call)                                                                                    \
  X(tf_fake_launch_count)                                                                            \
  X(tf_fake_launch)                                                                                  \
  X(tf_fake_func_attribute_count)                                                                    \
  X(tf_fake_func_attribute)                                                                          \
  X(tf_fake_tensor_map_count)                                                                        \
  X(tf_fake_tensor_map)                                                                              \
  X(tf_fake_module_load_count)                                                                       \
  X(tf_fake_module_load)                                                                             \
  X(tf_fake_launches_accepted)                                                                       \
  X(tf_fake_allocation_bytes)

struct FakeCudaControl {
#define TILEFUSE_FAKECUDA_FIELD(name) decltype(&::name) name = nullptr;
  TILEFUSE_FAKECUDA_CONTROL(TILEFUSE_FAKECUDA_FIELD)
#undef TILEFUSE_FAKECUDA_FIELD

  /// Opens `library` (the path given to TILEFUSE_CUDA_DRIVER); throws
  /// std::runtime_error when it is not the fake driver.
  explicit FakeCudaControl(const std::string& library) {
    void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw std::runtime_error("cannot load the fake CUDA driver " + library + ": " + ::dlerror());
#define TILEFUSE_FAKECUDA_RESOLVE(name)                                                              \
  name = reinterpret_cast<decltype(name)>(::dlsym(handle, #name));                                   \
  if (!name) throw std::runtime_error(library + " lacks " #name ": it is not the fake CUDA driver");
    TILEFUSE_FAKECUDA_CONTROL(TILEFUSE_FAKECUDA_RESOLVE)
#undef TILEFUSE_FAKECUDA_RESOLVE
  }
};

}  // namespace tilefuse::fakecuda
