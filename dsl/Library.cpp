// Primitives and the built-in activation library.
//
// Every built-in is one row written in the DSL. Bodies are chosen for fp32
// accuracy and for the right limits at ±inf (see docs/dsl.md):
//  - products x·g(x) whose factor g underflows to 0 at -inf go through
//    `xmul`, so that -inf·0 gives -0 (the limit) instead of NaN;
//  - gelu uses erfc(-x/√2), not 1 + erf(x/√2), which cancels for x < 0;
//  - gelu_tanh uses ½(1 + tanh(u)) = σ(2u) for the same reason;
//  - softplus is max(x, 0) + log1p(exp(-|x|)), which never overflows;
//  - step/threshold test both sides of the comparison so NaN stays NaN.
#include "dsl/Library.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

struct LibraryRow {
  const char* name;
  std::vector<BuiltinParam> params;
  const char* body;
  const char* formula;
};

// clang-format off
const std::vector<LibraryRow>& library_rows() {
  static const std::vector<LibraryRow> rows = {
    // Helpers used by the rows below (callable by users too).
    {"xmul", {{"x", {}}, {"g", {}}}, "select(g == 0, g * clamp(x, -1, 1), x * g)",
     "x·g, where g = 0 gives the signed zero even for infinite x"},
    // exp(-|x|) never overflows: for x < 0 this is e^x / (1 + e^x), which stays
    // accurate (and nonzero) down to x ≈ -103 instead of flushing to 0 at -88.
    {"sigmoid", {{"x", {}}},
     "select(x >= 0, 1 / (1 + exp(-abs(x))), exp(-abs(x)) / (1 + exp(-abs(x))))",
     "σ(x) = 1 / (1 + e^(−x))"},
    {"softplus", {{"x", {}}}, "max(x, 0) + log1p(exp(-abs(x)))", "ln(1 + e^x)"},
    // ReLU family.
    {"relu", {{"x", {}}}, "max(x, 0)", "max(x, 0)"},
    {"relu6", {{"x", {}}}, "clamp(x, 0, 6)", "min(max(x, 0), 6)"},
    {"relu2", {{"x", {}}}, "relu(x) * relu(x)", "max(x, 0)²  (squared ReLU)"},
    {"leaky_relu", {{"x", {}}, {"a", 0.01}}, "select(x >= 0, x, xmul(x, a))", "x if x ≥ 0, else a·x  (a = 0.01)"},
    {"prelu", {{"x", {}}, {"a", {}}}, "select(x >= 0, x, xmul(x, a))", "x if x ≥ 0, else a·x  (a required)"},
    {"elu", {{"x", {}}, {"a", 1.0}}, "select(x > 0, x, a * expm1(x))", "x if x > 0, else a·(e^x − 1)  (a = 1)"},
    {"selu", {{"x", {}}}, "1.0507009873554805 * elu(x, 1.6732632423543772)",
     "λ·elu(x, α), λ = 1.0507009873554805, α = 1.6732632423543772"},
    {"step", {{"x", {}}}, "select(x > 0, 1, select(x <= 0, 0, x))", "1 if x > 0, else 0"},
    {"threshold", {{"x", {}}, {"t", 0.0}, {"v", 0.0}}, "select(x > t, x, select(x <= t, v, x))",
     "x if x > t, else v  (t = 0, v = 0)"},
    // Smooth gates x·g(x).
    {"gelu", {{"x", {}}}, "xmul(x, 0.5 * erfc(-x * 0.7071067811865476))", "x·Φ(x) = ½·x·erfc(−x/√2)"},
    {"gelu_tanh", {{"x", {}}}, "xmul(x, sigmoid(1.5957691216057308 * (x + 0.044715 * x * x * x)))",
     "½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) = x·σ(2√(2/π)·(x + 0.044715·x³))"},
    {"quick_gelu", {{"x", {}}}, "xmul(x, sigmoid(1.702 * x))", "x·σ(1.702·x)"},
    {"silu", {{"x", {}}}, "xmul(x, sigmoid(x))", "x·σ(x)"},
    {"swish", {{"x", {}}, {"beta", 1.0}}, "xmul(x, sigmoid(beta * x))", "x·σ(β·x)  (β = 1)"},
    {"hardsigmoid", {{"x", {}}}, "clamp(x + 3, 0, 6) / 6", "relu6(x + 3) / 6"},
    {"hardswish", {{"x", {}}}, "xmul(x, hardsigmoid(x))", "x·relu6(x + 3) / 6"},
    {"mish", {{"x", {}}}, "xmul(x, tanh(softplus(x)))", "x·tanh(softplus(x))"},
    // Gated rows: the two accumulators of a dual GEMM.
    {"glu", {{"gate", {}}, {"up", {}}}, "sigmoid(gate) * up", "σ(gate)·up"},
    {"reglu", {{"gate", {}}, {"up", {}}}, "relu(gate) * up", "relu(gate)·up"},
    {"geglu", {{"gate", {}}, {"up", {}}}, "gelu(gate) * up", "gelu(gate)·up"},
    {"swiglu", {{"gate", {}}, {"up", {}}}, "silu(gate) * up", "silu(gate)·up"},
    {"bilinear", {{"gate", {}}, {"up", {}}}, "gate * up", "gate·up"},
  };
  return rows;
}
// clang-format on

struct Library {
  std::vector<Builtin> builtins;
  std::unordered_map<std::string_view, size_t> index;
};

const Library& library() {
  static const Library instance = [] {
    Library lib;
    const auto& rows = library_rows();
    lib.builtins.reserve(rows.size());  // `index` keys view into these names
    for (const auto& row : rows) {
      Builtin builtin;
      builtin.name = row.name;
      builtin.params = row.params;
      builtin.body = row.body;
      builtin.formula = row.formula;
      builtin.gated = row.params.size() >= 2 && row.params[0].name == "gate" && row.params[1].name == "up";
      // A row that does not parse keeps an empty program; verify_builtin_library()
      // reports it and the library test fails on it.
      if (auto parsed = parse(builtin.body)) builtin.program = std::move(*parsed);
      lib.builtins.push_back(std::move(builtin));
    }
    for (size_t i = 0; i < lib.builtins.size(); ++i) lib.index.emplace(lib.builtins[i].name, i);
    return lib;
  }();
  return instance;
}

/// Optimal-string-alignment distance (edits: insert, delete, substitute,
/// swap of neighbours), case-insensitive.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const std::vector<PrimitiveInfo>& primitives() {
  static const std::vector<PrimitiveInfo> table = {
      {Primitive::Exp, "exp", 1},     {Primitive::Exp2, "exp2", 1},   {Primitive::Log, "log", 1},
      {Primitive::Log1p, "log1p", 1}, {Primitive::Expm1, "expm1", 1}, {Primitive::Sqrt, "sqrt", 1},
      {Primitive::Rsqrt, "rsqrt", 1}, {Primitive::Tanh, "tanh", 1},   {Primitive::Erf, "erf", 1},
      {Primitive::Erfc, "erfc", 1},   {Primitive::Abs, "abs", 1},     {Primitive::Min, "min", 2},
      {Primitive::Max, "max", 2},     {Primitive::Clamp, "clamp", 3}, {Primitive::Select, "select", 3},
      {Primitive::Pow, "pow", 2},
  };
  return table;
}

std::optional<PrimitiveInfo> lookup_primitive(std::string_view name) {
  static const auto index = [] {
    std::unordered_map<std::string_view, PrimitiveInfo> map;
    for (const auto& info : primitives()) map.emplace(info.name, info);
    map.emplace("where", map.at("select"));
    return map;
  }();
  auto it = index.find(name);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

const std::vector<Builtin>& builtin_library() { return library().builtins; }

const Builtin* lookup_builtin(std::string_view name) {
  const Library& lib = library();
  auto it = lib.index.find(name);
  return it == lib.index.end() ? nullptr : &lib.builtins[it->second];
}

std::string closest_function_name(std::string_view name) {
  // Allow about one typo per three characters: "sigmoud" → "sigmoid", but
  // "foo" suggests nothing.
  size_t allowed = name.size() <= 3 ? 1 : name.size() <= 6 ? 2 : 3;
  std::string best;
  size_t best_distance = allowed + 1;
  auto consider = [&](std::string_view candidate) {
    size_t distance = edit_distance(name, candidate);
    if (distance < best_distance && distance < candidate.size()) {
      best_distance = distance;
      best = std::string(candidate);
    }
  };
  for (const auto& info : primitives()) consider(info.name);
  consider("where");
  for (const auto& builtin : builtin_library()) consider(builtin.name);
  return best;
}

}  // namespace tilefuse::dsl
