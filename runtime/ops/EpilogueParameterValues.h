// Runtime parameter values of an activation: by name (MatmulOp's Params) to
// the flat float order of TfEpilogueParams (CompiledEpilogue::parameters).
#pragma once

#include <span>
#include <string>

#include "tilefuse/error.hpp"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// out[i] = given[names[i]]. InvalidInput naming the parameter when one is
/// missing, or when `given` has a name the activation does not take (a typo
/// would otherwise be ignored). `out` has names.size() elements. Allocates
/// nothing on success.
Expected<void> parameter_values_by_name(std::span<const std::string> names, const Params& given,
                                        std::string_view activation, std::span<float> out);

}  // namespace tilefuse::ops
