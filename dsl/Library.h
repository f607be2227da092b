// tilefuse DSL — primitives and the built-in activation library.
//
// Primitives map one-to-one onto IR operations. Built-ins are written in the
// DSL itself, one table row each (Library.cpp): adding an activation never
// needs C++ beyond that row.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/Ast.h"

namespace tilefuse::dsl {

enum class Primitive {
  Exp, Exp2, Log, Log1p, Expm1, Sqrt, Rsqrt, Tanh, Erf, Erfc, Abs,
  Min, Max, Clamp, Select, Pow,
};

struct PrimitiveInfo {
  Primitive primitive;
  const char* name;  ///< canonical DSL spelling
  int arity;
};

/// Looks up a primitive by DSL name; `where` is an alias of `select`.
std::optional<PrimitiveInfo> lookup_primitive(std::string_view name);
const std::vector<PrimitiveInfo>& primitives();

struct BuiltinParam {
  std::string name;
  std::optional<double> default_value;  ///< absent: the caller must pass it
};

/// One library row, e.g. gelu(x) = 0.5 * x * erfc(-x * 0.7071067811865476).
struct Builtin {
  std::string name;
  std::vector<BuiltinParam> params;  ///< first is x, or gate and up for gated rows
  std::string body;                  ///< DSL text, may use params and other built-ins
  std::string formula;               ///< human formula for docs and --help
  bool gated = false;                ///< params start with (gate, up)
  Program program;                   ///< parsed body
};

/// The whole library, parsed once (thread-safe).
const std::vector<Builtin>& builtin_library();
const Builtin* lookup_builtin(std::string_view name);

/// Closest known function name (primitive or built-in) for "did you mean"
/// suggestions, or "" when nothing is close.
std::string closest_function_name(std::string_view name);

}  // namespace tilefuse::dsl
