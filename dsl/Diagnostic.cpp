// Positioned diagnostics: `error: LINE:COL: message`, the source line, a caret.
#include <fmt/format.h>

#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// The text of 1-based line `line` without its line terminator ("" past the end).
std::string_view source_line(std::string_view source, int line) {
  size_t begin = 0;
  for (int current = 1; current < line; ++current) {
    size_t newline = source.find('\n', begin);
    if (newline == std::string_view::npos) return {};
    begin = newline + 1;
  }
  size_t end = source.find('\n', begin);
  std::string_view text = source.substr(begin, end == std::string_view::npos ? source.npos : end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace

std::string format_diagnostic(std::string_view source, SourceLocation loc, std::string_view message) {
  std::string_view text = source_line(source, loc.line);
  // Columns count code points, not bytes. Tabs are copied so that the caret
  // lines up under the same character however the terminal expands them.
  std::string caret;
  int column = 1;
  for (char c : text) {
    if (is_utf8_continuation(c)) continue;
    if (column >= loc.column) break;
    caret += c == '\t' ? '\t' : ' ';
    ++column;
  }
  while (column < loc.column) {  // the position just past the end of the line
    caret += ' ';
    ++column;
  }
  caret += '^';
  return fmt::format("error: {}:{}: {}\n{}\n{}", loc.line, loc.column, message, text, caret);
}

}  // namespace tilefuse::dsl
