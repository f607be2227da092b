// Safe C++ spellings of user-chosen names (see CudaIdentifiers.h).
#include "compiler/Target/CudaIdentifiers.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>

#include <fmt/format.h>

namespace tilefuse::compiler {
namespace {

// C++20 keywords and alternative tokens ([lex.key], [lex.digraph]).
constexpr std::string_view kCppKeywords[] = {
    "alignas",   "alignof",      "and",         "and_eq",      "asm",
    "auto",      "bitand",       "bitor",       "bool",        "break",
    "case",      "catch",        "char",        "char8_t",     "char16_t",
    "char32_t",  "class",        "compl",       "concept",     "const",
    "consteval", "constexpr",    "constinit",   "const_cast",  "continue",
    "co_await",  "co_return",    "co_yield",    "decltype",    "default",
    "delete",    "do",           "double",      "dynamic_cast", "else",
    "enum",      "explicit",     "export",      "extern",      "false",
    "float",     "for",          "friend",      "goto",        "if",
    "inline",    "int",          "long",        "mutable",     "namespace",
    "new",       "noexcept",     "not",         "not_eq",      "nullptr",
    "operator",  "or",           "or_eq",       "private",     "protected",
    "public",    "register",     "reinterpret_cast", "requires", "return",
    "short",     "signed",       "sizeof",      "static",      "static_assert",
    "static_cast", "struct",     "switch",      "template",    "this",
    "thread_local", "throw",     "true",        "try",         "typedef",
    "typeid",    "typename",     "union",       "unsigned",    "using",
    "virtual",   "void",         "volatile",    "wchar_t",     "while",
    "xor",       "xor_eq",
    // Not a keyword, but a macro in many CUDA translation units.
    "NULL",
};

bool isIdentifierStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool hasTilefusePrefix(std::string_view name) {
  return name.size() >= 3 && (name[0] == 't' || name[0] == 'T') &&
         (name[1] == 'f' || name[1] == 'F') && name[2] == '_';
}

// `p_<name>` with invalid characters replaced and runs of '_' collapsed (an
// identifier containing "__" is reserved).
std::string mangle(std::string_view name) {
  std::string out = "p_";
  for (char c : name) {
    char ch = isIdentifierChar(c) ? c : '_';
    if (ch == '_' && out.back() == '_') continue;
    out += ch;
  }
  return out;
}

}  // namespace

bool isSafeCudaIdentifier(std::string_view name) {
  if (name.empty() || !isIdentifierStart(name[0]) || name[0] == '_') return false;
  if (!std::all_of(name.begin(), name.end(), isIdentifierChar)) return false;
  if (name.find("__") != std::string_view::npos || hasTilefusePrefix(name)) return false;
  return std::none_of(std::begin(kCppKeywords), std::end(kCppKeywords),
                      [&](std::string_view keyword) { return keyword == name; });
}

std::vector<std::string> makeCudaFieldNames(const std::vector<std::string>& names) {
  // Reserve the verbatim names first so that a user's `p_class` keeps its
  // spelling even when an earlier `class` would mangle to the same text.
  std::set<std::string> taken;
  for (const std::string& name : names)
    if (isSafeCudaIdentifier(name)) taken.insert(name);

  std::vector<std::string> fields;
  fields.reserve(names.size());
  std::set<std::string> verbatimUsed;
  for (const std::string& name : names) {
    if (isSafeCudaIdentifier(name) && verbatimUsed.insert(name).second) {
      fields.push_back(name);
      continue;
    }
    std::string base = mangle(name);
    std::string candidate = base;
    for (int suffix = 1; taken.count(candidate); ++suffix)
      candidate = fmt::format("{}_{}", base, suffix);
    taken.insert(candidate);
    fields.push_back(candidate);
  }
  return fields;
}

}  // namespace tilefuse::compiler
