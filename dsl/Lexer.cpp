// Lexer: one pass over the source, no recursion.
#include "dsl/Lexer.h"

#include <charconv>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// How an unexpected character is shown: printable ASCII and whole UTF-8
/// sequences as themselves, control bytes as \xNN.
std::string show_character(std::string_view rest) {
  unsigned char c = static_cast<unsigned char>(rest[0]);
  if (c >= 0x20 && c < 0x7F) return fmt::format("'{}'", rest[0]);
  if (c >= 0xC0) {
    size_t length = 1;
    while (length < rest.size() && length < 4 && is_utf8_continuation(rest[length])) ++length;
    return fmt::format("'{}'", rest.substr(0, length));
  }
  return fmt::format("'\\x{:02X}'", c);
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  Expected<std::vector<Token>> run() {
    while (pos_ < source_.size()) {
      char c = source_[pos_];
      if (c == ' ' || c == '\t' || c == '\r') {
        advance(1);
      } else if (c == '#') {
        while (pos_ < source_.size() && source_[pos_] != '\n') advance(1);
      } else if (c == '\n') {
        // Inside parentheses a newline is whitespace; outside, consecutive
        // newlines form one separator.
        if (paren_depth_ == 0 && (tokens_.empty() || tokens_.back().kind != TokenKind::Newline))
          push(TokenKind::Newline, 1);
        else
          advance(1);
      } else if (is_digit(c) || (c == '.' && pos_ + 1 < source_.size() && is_digit(source_[pos_ + 1]))) {
        if (auto error = lex_number()) return std::move(*error);
      } else if (is_ident_start(c)) {
        size_t length = 1;
        while (pos_ + length < source_.size() && is_ident_char(source_[pos_ + length])) ++length;
        push(TokenKind::Identifier, length);
      } else if (auto error = lex_punctuation()) {
        return std::move(*error);
      }
    }
    Token end;
    end.kind = TokenKind::End;
    end.loc = last_token_end_;
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  std::optional<Error> lex_punctuation() {
    char c = source_[pos_];
    char next = pos_ + 1 < source_.size() ? source_[pos_ + 1] : '\0';
    switch (c) {
      case '+': push(TokenKind::Plus, 1); return std::nullopt;
      case '-': push(TokenKind::Minus, 1); return std::nullopt;
      case '*':
        if (next == '*') return error_here("'**' is not an operator; write powers with '^', e.g. x^2");
        push(TokenKind::Star, 1);
        return std::nullopt;
      case '/': push(TokenKind::Slash, 1); return std::nullopt;
      case '^': push(TokenKind::Caret, 1); return std::nullopt;
      case ',': push(TokenKind::Comma, 1); return std::nullopt;
      case ';': push(TokenKind::Semicolon, 1); return std::nullopt;
      case '(':
        ++paren_depth_;
        push(TokenKind::LeftParen, 1);
        return std::nullopt;
      case ')':
        if (paren_depth_ > 0) --paren_depth_;  // an unmatched ')' is the parser's to report
        push(TokenKind::RightParen, 1);
        return std::nullopt;
      case '<':
        if (next == '=') push(TokenKind::LessEqual, 2); else push(TokenKind::Less, 1);
        return std::nullopt;
      case '>':
        if (next == '=') push(TokenKind::GreaterEqual, 2); else push(TokenKind::Greater, 1);
        return std::nullopt;
      case '=':
        if (next == '=') push(TokenKind::EqualEqual, 2); else push(TokenKind::Assign, 1);
        return std::nullopt;
      case '!':
        if (next == '=') {
          push(TokenKind::NotEqual, 2);
          return std::nullopt;
        }
        break;
      default: break;
    }
    return error_here(fmt::format("unexpected character {}", show_character(source_.substr(pos_))));
  }

  // NUMBER ::= DIGITS ('.' DIGITS?)? (('e'|'E') ('+'|'-')? DIGITS)? | '.' DIGITS (...)?
  std::optional<Error> lex_number() {
    size_t end = pos_;
    while (end < source_.size() && is_digit(source_[end])) ++end;
    if (end < source_.size() && source_[end] == '.') {
      ++end;
      while (end < source_.size() && is_digit(source_[end])) ++end;
    }
    bool exponent_ok = true;
    if (end < source_.size() && (source_[end] == 'e' || source_[end] == 'E')) {
      size_t digits = end + 1;
      if (digits < source_.size() && (source_[digits] == '+' || source_[digits] == '-')) ++digits;
      exponent_ok = digits < source_.size() && is_digit(source_[digits]);
      end = digits;  // past 'e' and its sign, so that a bad exponent is reported whole
      while (end < source_.size() && is_digit(source_[end])) ++end;
    }
    // A number glued to more number or name characters is one malformed
    // token: report all of it rather than a confusing second token.
    size_t glued = end;
    while (glued < source_.size() && (is_ident_char(source_[glued]) || source_[glued] == '.')) ++glued;
    std::string_view text = source_.substr(pos_, glued - pos_);
    if (!exponent_ok)
      return error_here(fmt::format("malformed number '{}': the exponent has no digits (write e.g. 1e-3)", text));
    if (glued != end) {
      std::string_view number = source_.substr(pos_, end - pos_);
      std::string_view tail = source_.substr(end, glued - end);
      if (tail.find('.') != std::string_view::npos)
        return error_here(fmt::format("malformed number '{}': a number has at most one '.'", text));
      return error_here(fmt::format("malformed number '{}'; to multiply, write '{} * {}'", text, number, tail));
    }
    double value = 0.0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range)
      return error_here(fmt::format("number '{}' is out of the range of a double", text));
    if (ec != std::errc() || ptr != text.data() + text.size())
      return error_here(fmt::format("malformed number '{}'", text));  // unreachable by construction
    push(TokenKind::Number, text.size());
    tokens_.back().number = value;
    return std::nullopt;
  }

  void push(TokenKind kind, size_t length) {
    Token token;
    token.kind = kind;
    token.text = source_.substr(pos_, length);
    token.loc = SourceLocation{line_, column_};
    tokens_.push_back(token);
    advance(length);
    if (kind != TokenKind::Newline) last_token_end_ = SourceLocation{line_, column_};
  }

  void advance(size_t count) {
    for (size_t i = 0; i < count && pos_ < source_.size(); ++i, ++pos_) {
      if (source_[pos_] == '\n') {
        ++line_;
        column_ = 1;
      } else if (!is_utf8_continuation(source_[pos_])) {
        ++column_;
      }
    }
  }

  Error error_here(std::string message) const {
    return make_error(ErrorCode::InvalidInput,
                      format_diagnostic(source_, SourceLocation{line_, column_}, message));
  }

  std::string_view source_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  int paren_depth_ = 0;
  SourceLocation last_token_end_{1, 1};
  std::vector<Token> tokens_;
};

}  // namespace

Expected<std::vector<Token>> tokenize(std::string_view source) { return Lexer(source).run(); }

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::End: return "end of input";
    case TokenKind::Newline: return "end of line";
    case TokenKind::Number: return fmt::format("number '{}'", token.text);
    case TokenKind::Identifier: return fmt::format("identifier '{}'", token.text);
    default: return fmt::format("'{}'", token.text);
  }
}

}  // namespace tilefuse::dsl
