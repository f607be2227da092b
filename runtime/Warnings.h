// Where the runtime reports problems it recovers from (a corrupt cache entry,
// an unwritable cache directory): never silently, through a sink the caller
// can replace (tests capture it, an application can route it to its log).
#pragma once

#include <functional>
#include <string_view>

namespace tilefuse::runtime {

using WarningSink = std::function<void(std::string_view message)>;

/// Writes "tilefuse: warning: <message>" and a newline to stderr.
WarningSink stderr_warning_sink();

}  // namespace tilefuse::runtime
