// tilefuse passes: declarations generated from Passes.td.
#pragma once

#include <memory>

#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Pass/Pass.h"

namespace tilefuse::compiler {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

}  // namespace tilefuse::compiler
