// The public value types (DType, Precision, Arch, TileConfig and their
// names), under the compiler's namespace. They are defined by the public API,
// include/tilefuse/types.hpp: the compiler uses the API's types, so that an
// installed tilefuse.hpp needs nothing outside include/.
#pragma once

#include <optional>

#include "tilefuse/types.hpp"

namespace tilefuse::compiler {

using tilefuse::Arch;
using tilefuse::kAllArchs;
using tilefuse::kArchCount;
using tilefuse::DType;
using tilefuse::Precision;
using tilefuse::ScaleMode;
using tilefuse::dtype_bytes;
using tilefuse::is_fp8;
using tilefuse::TileConfig;

using tilefuse::parse_arch;
using tilefuse::parse_dtype;
using tilefuse::parse_precision;
using tilefuse::parse_scale_mode;
using tilefuse::to_string;

}  // namespace tilefuse::compiler
