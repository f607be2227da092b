// Where an NVRTC compile spends its time, from NVRTC's own `--time=<file>`
// report: "CUDA C++ Frontend" (parsing and template instantiation, the part
// precompiled headers can shorten), "NVVM Optimizer" (LLVM passes) and
// "PTX Translation" (ptxas: PTX → SASS, register allocation).
#pragma once

#include <map>
#include <string>

#include "runtime/Nvrtc.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

struct PhasedCompile {
  runtime::Compiled compiled;
  double wall_ms = 0;                     ///< around runtime::compile
  std::map<std::string, double> phase_ms; ///< phase name → ms, as NVRTC names it
};

/// Compiles `source` through runtime::compile with "--time=<temp file>"
/// appended to its options, and reads the per-phase times back.
Expected<PhasedCompile> compile_with_phase_times(runtime::Source source);

}  // namespace tilefuse::bench
