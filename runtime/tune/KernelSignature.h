// What a tuning record is about: every field of the KernelSpec that changes
// the kernel's code, except the tile (what is tuned) and the shape hint
// (the shape is the record's bucket). Two specs with the same signature
// run the same configs at the same speed.
#pragma once

#include <string>

#include "compiler/Pipeline.h"

namespace tilefuse::tune {

/// XXH3-64 over the fields, each length-prefixed; 16 lowercase hex digits.
std::string kernel_signature(const compiler::KernelSpec& spec);

/// A short human description stored next to the signature ("gelu(x) sm_80
/// bf16->bf16 precise bias"), so a database can be read without tilefuse.
std::string kernel_description(const compiler::KernelSpec& spec);

}  // namespace tilefuse::tune
