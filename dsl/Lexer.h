// tilefuse DSL — lexer: source text to a flat token list.
//
// The lexer is a single loop (no recursion). It tracks parenthesis depth so
// that a newline inside parentheses is whitespace and a newline outside them
// separates statements (see the grammar in Parser.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/Ast.h"
#include "tilefuse/error.hpp"

namespace tilefuse::dsl {

enum class TokenKind {
  Number, Identifier,
  Plus, Minus, Star, Slash, Caret,
  Less, LessEqual, Greater, GreaterEqual, EqualEqual, NotEqual,
  Assign, LeftParen, RightParen, Comma, Semicolon,
  Newline,  ///< a statement separator (only emitted outside parentheses)
  End,      ///< end of input; located just after the last token
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text;  ///< view into the source ("" for End)
  SourceLocation loc;
  double number = 0.0;    ///< value of a Number token
};

/// Splits `source` into tokens, always ending with one End token. Errors
/// (unknown characters, malformed or out-of-range numbers) are positioned
/// diagnostics, ErrorCode::InvalidInput.
Expected<std::vector<Token>> tokenize(std::string_view source);

/// How a token is named in messages: "end of input", "end of line",
/// "number '2'", "identifier 'y'", "'+'".
std::string describe(const Token& token);

}  // namespace tilefuse::dsl
