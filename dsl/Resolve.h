// tilefuse DSL — name resolution and checks on a parsed program.
#pragma once

#include <string>
#include <vector>

#include "dsl/Ast.h"
#include "tilefuse/error.hpp"

namespace tilefuse::dsl {

/// `x` (one accumulator) or `gate` and `up` (the two accumulators of a dual GEMM).
enum class InputKind { Single, Gated };

/// Vectors the launch supplies besides the accumulator(s), declared by the
/// caller (MatmulOptions::row_inputs / col_inputs): a row input holds one f32
/// value per output row (a token's routing weight), a column input one f32
/// value per output column (a per-channel scale). A name not declared here
/// stays a runtime scalar parameter.
struct OperandDeclarations {
  std::vector<std::string> row_inputs;
  std::vector<std::string> col_inputs;
};

/// What a program needs from its caller.
struct Analysis {
  InputKind inputs = InputKind::Single;
  /// The declared row and column inputs, in declaration order (every one is
  /// used: a declared name the program never reads is an error).
  std::vector<std::string> row_inputs;
  std::vector<std::string> col_inputs;
  /// Runtime scalar parameters: bare identifiers that are neither inputs nor
  /// let bindings, in order of first appearance. Values come at launch time.
  std::vector<std::string> parameters;
  /// Built-ins called, transitively, callees before callers.
  std::vector<std::string> builtins_used;
};

/// Resolves names and checks the program:
///  - unknown function → error naming it and suggesting the closest name;
///  - wrong arity → error with the expected count (defaults taken into account);
///  - `x` mixed with `gate`/`up` → error; a let may not shadow an input or a
///    function, nor be used before it is defined;
///  - a built-in name used as a bare value → error, except that a whole
///    program that is just a built-in name (`gelu`, `swiglu`) or a
///    one-argument primitive (`tanh`) means calling it on the inputs;
///    `normalize` rewrites that form;
///  - a declared row/column input must be a valid name, declared once, not an
///    input (x, gate, up) nor a function, not bound by a let (error at the
///    let), and read by the program (an unused declaration is an error: it is
///    most often a typo that would silently turn the misspelt use into a
///    runtime parameter).
/// Errors are positioned diagnostics (see format_diagnostic) where the
/// problem is in the source; declaration problems name the option.
Expected<Analysis> analyze(const Program& program, const OperandDeclarations& declared = {});

/// Returns the program with the bare-built-in shorthand expanded
/// (`gelu` → `gelu(x)`, `swiglu` → `swiglu(gate, up)`, `tanh` → `tanh(x)`);
/// otherwise unchanged.
Program normalize(const Program& program);

/// Parse + normalize + analyze in one step.
struct ResolvedProgram {
  Program program;
  Analysis analysis;
};
Expected<ResolvedProgram> resolve(std::string_view source, const OperandDeclarations& declared = {});
Expected<ResolvedProgram> resolve(const Program& program, const OperandDeclarations& declared = {});

/// Checks the built-in library (Library.h): every row parses, resolves with
/// its parameters as the only free names, has well-formed parameters
/// (defaults trailing, gated rows start with gate and up), and no row calls
/// itself directly or indirectly. An error here is a bug in the library
/// table (ErrorCode::Internal).
Expected<void> verify_builtin_library();

}  // namespace tilefuse::dsl
