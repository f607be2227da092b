// Lowering of a resolved DSL program to the tilefuse dialect: one
// `tilefuse.matmul` whose epilogue region computes the expression, plus one
// `func.func private @tf_builtin_<name>` per built-in it calls (inlined later
// by tilefuse-inline-builtins). Not a pass: the input is an AST, not IR.
#pragma once

#include <string>
#include <string_view>

#include "compiler/Pipeline.h"
#include "dsl/Resolve.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "tilefuse/error.hpp"

namespace tilefuse::compiler {

/// Symbol of the private function a built-in lowers to: "tf_builtin_<name>".
std::string builtinFunctionName(std::string_view builtin);

/// Builds the module for `program` with the kernel attributes from `spec`
/// (types, layout, mode, bias/residual/aux, tile, shape hint, source text).
/// Loads the dialects it needs into `context`. Locations are the DSL source
/// positions ("<expression>":line:col; "<builtin NAME>":line:col in bodies).
/// Errors: InvalidInput for a spec the kernel cannot serve (f32 inputs, a
/// gated matmul with bias); Internal if the program was not resolved or the
/// built module does not verify (then `detail` has the diagnostics).
Expected<mlir::OwningOpRef<mlir::ModuleOp>> lowerToTilefuse(const dsl::ResolvedProgram& program,
                                                            const KernelSpec& spec,
                                                            mlir::MLIRContext& context);

}  // namespace tilefuse::compiler
