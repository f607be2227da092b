// Stages 3 → 5 of the JIT: Compiled → Loaded{module} → Kernel → launch.
// Each step returns a value or a structured error; with no driver every one
// of them fails with NoDevice.
#pragma once

#include <cuda.h>

#include <memory>
#include <string>
#include <string_view>

#include "runtime/Driver.h"
#include "runtime/Nvrtc.h"
#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

struct ModuleHandle;  // owns the CUmodule; unloads it when the last user goes
struct LaunchConfig;
class Kernel;
Expected<void> launch(const Kernel& kernel, const LaunchConfig& config, CUstream stream,
                      void** args);

/// A loaded kernel. Keeps its module loaded for as long as it exists.
class Kernel {
 public:
  CUfunction function() const { return function_; }
  const std::string& name() const { return name_; }
  /// Lets a launch use up to `bytes` of dynamic shared memory (above 48 KiB
  /// needs this opt-in).
  Expected<void> set_max_dynamic_shared_bytes(int bytes) const;

 private:
  friend class Loaded;
  friend Expected<void> launch(const Kernel&, const LaunchConfig&, CUstream, void**);
  std::shared_ptr<const ModuleHandle> module_;
  CUfunction function_ = nullptr;
  std::string name_;
};

/// A Compiled program loaded into the current device's primary context.
class Loaded {
 public:
  /// Loads the cubin on device `ordinal`, or the PTX where the device cannot
  /// run the cubin but can JIT the PTX (ImageChoice.h: an sm_80 kernel on a
  /// 9.0 device); Unsupported, saying what would run, where it can neither.
  static Expected<Loaded> load(const Compiled& compiled, int ordinal = 0);

  /// The kernel for a name expression given in Source::kernel_names (mapped
  /// to its lowered name) or an extern "C" kernel name.
  Expected<Kernel> kernel(std::string_view name_expression) const;

  CUmodule module() const;

 private:
  std::shared_ptr<const ModuleHandle> module_;
  std::vector<std::pair<std::string, std::string>> lowered_names_;
};

struct LaunchConfig {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned dynamic_shared_bytes = 0;
};

/// Launches `kernel` on `stream` (nullptr: the legacy default stream) with
/// `args`: one pointer per kernel parameter, pointing at its value.
Expected<void> launch(const Kernel& kernel, const LaunchConfig& config, CUstream stream,
                      void** args);

}  // namespace tilefuse::runtime
