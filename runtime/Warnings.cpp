#include "runtime/Warnings.h"

#include <cstdio>

#include <fmt/format.h>

namespace tilefuse::runtime {

WarningSink stderr_warning_sink() {
  return [](std::string_view message) {
    // One fmt::print call per warning so that lines from threads do not interleave.
    fmt::print(stderr, "tilefuse: warning: {}\n", message);
  };
}

}  // namespace tilefuse::runtime
