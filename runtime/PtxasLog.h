// Reads the resource usage ptxas prints with --ptxas-options=-v.
#pragma once

#include <string_view>
#include <vector>

#include "runtime/Nvrtc.h"

namespace tilefuse::runtime {

/// One record per function ptxas reports on, in log order: every entry
/// function ("Compiling entry function 'k'") and every non-inlined device
/// function that has its own "Function properties" block, since a spill
/// there is as real as one in the kernel. Lines it does not know are skipped.
std::vector<KernelResources> parse_ptxas_log(std::string_view log);

}  // namespace tilefuse::runtime
