// tools/lint/tokenizer.h — the C++ tokens the determinism lint reasons about.
//
// The lint matches names, not text: a comment, spaces or a line splice
// between `std::` and `thread` must not hide it, and a string that mentions
// `rand()` must not trip it. So sources are split into tokens the way the
// compiler's first phases do: line splices removed, comments dropped, every
// literal form (encoding prefixes, raw strings with delimiters, character
// literals, digit separators, user-defined suffixes) kept as one token, and
// preprocessor lines marked, with `#include` operands as header names.
//
// A NUL character is blank, as GCC takes it (with a warning), and digraphs
// are given the text of what they stand for (`<%` is "{").
//
// Not handled: trigraphs (gone in C++17) and macro expansion — the lint sees
// the body of a #define as tokens, but not what a macro call turns into.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace faultline::lint {

enum class TokenKind {
  kIdentifier,  // identifiers and keywords
  kNumber,      // pp-numbers: 42, 0x1'ff, 1.5e+3f
  kString,      // any string literal, prefix and suffix included
  kChar,        // any character literal
  kHeaderName,  // the operand of #include: <thread> or "core/io/clock.h"
  kPunct,       // "::", "->", "...", "##" or a single character
};

struct Token {
  TokenKind kind = TokenKind::kPunct;
  std::string text;        // as written, without line splices
  int line = 0;            // 1-based line of the first character
  bool directive = false;  // on a preprocessor line (the '#' included)
};

// The tokens of one source file. Never fails: an unterminated comment or
// literal runs to the end of its line (literals) or of the file.
std::vector<Token> Tokenize(std::string_view source);

// For every '(' '[' '{' and ')' ']' '}' in `tokens`, the index of its
// partner of the same kind (tokens.size() if it has none); tokens.size() for
// every other token. Computed once per file so that no check rescans.
std::vector<size_t> MatchBrackets(const std::vector<Token>& tokens);

// Whether `token` is the punctuator or identifier `text`.
inline bool Is(const Token& token, std::string_view text) {
  return (token.kind == TokenKind::kPunct || token.kind == TokenKind::kIdentifier) &&
         token.text == text;
}

}  // namespace faultline::lint
