// tilefuse passes: declarations generated from Passes.td, plus the pattern
// sets of the pattern-based passes (so other drivers can reuse them).
#pragma once

#include <memory>

#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace tilefuse::compiler {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

/// The IEEE-exact algebraic rewrites of `tilefuse-simplify`.
void populateSimplifyPatterns(mlir::RewritePatternSet& patterns);

/// The fast-mode rewrites of `tilefuse-choose-approximations` (apply them
/// only to epilogues whose mode is "fast").
void populateChooseApproximationsPatterns(mlir::RewritePatternSet& patterns);

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

}  // namespace tilefuse::compiler
