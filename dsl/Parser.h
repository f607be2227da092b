// tilefuse DSL — parser entry point.
//
/// Grammar (precedence climbing; lowest precedence first):
///
///   program    ::= sep* statement (sep+ statement)* sep*
///   sep        ::= ';' | NEWLINE
///   statement  ::= IDENT '=' expr          -- let binding (not the last statement)
///                | expr                    -- the last statement is the result
///   expr       ::= comparison
///   comparison ::= additive (('<'|'<='|'>'|'>='|'=='|'!=') additive)?   -- non-associative
///   additive   ::= multiplicative (('+'|'-') multiplicative)*            -- left-assoc
///   multiplicative ::= unary (('*'|'/') unary)*                          -- left-assoc
///   unary      ::= '-' unary | '+' unary | power
///   power      ::= primary ('^' unary)?                                  -- right-assoc: 2^-x^2 = 2^(-(x^2))
///   primary    ::= NUMBER | IDENT | IDENT '(' (expr (',' expr)*)? ')' | '(' expr ')'
///   NUMBER     ::= DIGITS ('.' DIGITS?)? (('e'|'E') ('+'|'-')? DIGITS)? | '.' DIGITS (...)?
///   IDENT      ::= [A-Za-z_][A-Za-z_0-9]*
///
/// `-x^2` is `-(x^2)` as in mathematics. Newlines inside parentheses are
/// whitespace. `#` starts a comment to the end of the line.
#pragma once

#include <string_view>

#include "dsl/Ast.h"
#include "tilefuse/error.hpp"

namespace tilefuse::dsl {

/// Maximum nesting depth of expressions (parentheses, unary chains, calls,
/// exponents) and maximum height of the expression tree (so `x+x+...` with
/// more terms than this is rejected too). Deeper input is rejected with an
/// error instead of exhausting the stack here or in later recursive passes.
inline constexpr int kMaxNestingDepth = 256;

/// Parses `source`. On failure the Error's message is a positioned
/// diagnostic: `error: LINE:COL: message`, then the source line, then a caret.
Expected<Program> parse(std::string_view source);

/// Formats a positioned diagnostic (used by the parser and by name resolution).
std::string format_diagnostic(std::string_view source, SourceLocation loc, std::string_view message);

}  // namespace tilefuse::dsl
