// tools/lint/tokenizer.cc — see tokenizer.h.
#include "tools/lint/tokenizer.h"

#include <algorithm>
#include <cstddef>

namespace faultline::lint {
namespace {

bool IsIdentStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == '$' || u >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsEncodingPrefix(std::string_view word) {
  return word == "L" || word == "u" || word == "U" || word == "u8";
}

// Source text after translation phase 2 (backslash-newline removed), with
// the original line of every remaining character.
struct Spliced {
  std::string text;
  std::vector<int> line_of;
};

Spliced Splice(std::string_view in) {
  Spliced out;
  out.text.reserve(in.size());
  out.line_of.reserve(in.size() + 1);
  int line = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\') {
      size_t j = i + 1;
      if (j < in.size() && in[j] == '\r') ++j;
      if (j < in.size() && in[j] == '\n') {
        ++line;
        i = j;
        continue;
      }
    }
    out.text.push_back(in[i]);
    out.line_of.push_back(line);
    if (in[i] == '\n') ++line;
  }
  out.line_of.push_back(line);  // for an end position
  return out;
}

constexpr size_t kMaxRawDelimiter = 16;  // the standard's limit

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(Splice(source)), s_(src_.text) {}

  std::vector<Token> Run() {
    while (i_ < s_.size()) Step();
    return std::move(tokens_);
  }

 private:
  void Step() {
    const char c = s_[i_];
    if (c == '\n') {
      at_line_start_ = true;
      in_directive_ = false;
      ++i_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' ||
               c == '\0') {
      ++i_;
    } else if (StartsWith("//")) {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
    } else if (StartsWith("/*")) {
      const size_t end = s_.find("*/", i_ + 2);
      i_ = end == std::string::npos ? s_.size() : end + 2;
    } else if (at_line_start_ && (c == '#' || StartsWith("%:"))) {
      in_directive_ = true;
      Emit(TokenKind::kPunct, i_, c == '#' ? i_ + 1 : i_ + 2, "#");
      Directive();
    } else if (IsIdentStart(c)) {
      Word();
    } else if (IsDigit(c) || (c == '.' && i_ + 1 < s_.size() && IsDigit(s_[i_ + 1]))) {
      Number();
    } else if (c == '"' || c == '\'') {
      Literal(i_, i_);
    } else {
      Punct();
    }
  }

  bool StartsWith(std::string_view what) const { return s_.compare(i_, what.size(), what) == 0; }

  void Emit(TokenKind kind, size_t begin, size_t end, std::string text) {
    tokens_.push_back(Token{kind, std::move(text), src_.line_of[begin], in_directive_});
    i_ = end;
    at_line_start_ = false;
  }
  void Emit(TokenKind kind, size_t begin, size_t end) {
    Emit(kind, begin, end, s_.substr(begin, end - begin));
  }

  // After '#': the directive name, and for an include the header name.
  void Directive() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    if (i_ >= s_.size() || !IsIdentStart(s_[i_])) return;
    size_t end = i_;
    while (end < s_.size() && IsIdentChar(s_[end])) ++end;
    const std::string name = s_.substr(i_, end - i_);
    Emit(TokenKind::kIdentifier, i_, end);
    if (name != "include" && name != "include_next" && name != "import") return;
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    if (i_ >= s_.size() || (s_[i_] != '<' && s_[i_] != '"')) return;
    const char close = s_[i_] == '<' ? '>' : '"';
    size_t stop = i_ + 1;
    while (stop < s_.size() && s_[stop] != close && s_[stop] != '\n') ++stop;
    if (stop < s_.size() && s_[stop] == close) ++stop;
    Emit(TokenKind::kHeaderName, i_, stop);
  }

  // An identifier, or the encoding/raw prefix of a literal.
  void Word() {
    size_t end = i_;
    while (end < s_.size() && IsIdentChar(s_[end])) ++end;
    const std::string_view word = std::string_view(s_).substr(i_, end - i_);
    if (end < s_.size() && (s_[end] == '"' || s_[end] == '\'')) {
      const bool raw = !word.empty() && word.back() == 'R' && s_[end] == '"';
      const std::string_view prefix = raw ? word.substr(0, word.size() - 1) : word;
      if (prefix.empty() || IsEncodingPrefix(prefix)) {
        if (raw) {
          RawString(i_, end);
        } else {
          Literal(i_, end);
        }
        return;
      }
    }
    Emit(TokenKind::kIdentifier, i_, end);
  }

  void Number() {
    size_t end = i_ + 1;
    while (end < s_.size()) {
      const char c = s_[end];
      if ((c == '+' || c == '-') && (s_[end - 1] == 'e' || s_[end - 1] == 'E' ||
                                     s_[end - 1] == 'p' || s_[end - 1] == 'P')) {
        ++end;
      } else if (c == '\'' && end + 1 < s_.size() && IsIdentChar(s_[end + 1])) {
        end += 2;  // a digit separator
      } else if (IsIdentChar(c) || c == '.') {
        ++end;
      } else {
        break;
      }
    }
    Emit(TokenKind::kNumber, i_, end);
  }

  // A quoted string or character literal; `quote` is at the opening quote.
  void Literal(size_t begin, size_t quote) {
    const char q = s_[quote];
    size_t end = quote + 1;
    while (end < s_.size() && s_[end] != q && s_[end] != '\n') {
      end += s_[end] == '\\' ? 2 : 1;
    }
    if (end < s_.size() && s_[end] == q) ++end;
    Emit(q == '"' ? TokenKind::kString : TokenKind::kChar, begin, Suffix(std::min(end, s_.size())));
  }

  // R"delim( ... )delim" — `quote` is at the '"' after R.
  void RawString(size_t begin, size_t quote) {
    // Only the delimiter's few characters are looked at: a file full of
    // `R"` must not be rescanned from each one.
    const size_t limit = std::min(s_.size(), quote + 2 + kMaxRawDelimiter);
    size_t paren = quote + 1;
    while (paren < limit && s_[paren] != '(' &&
           std::string_view(" \t\n\\)\"").find(s_[paren]) == std::string_view::npos) {
      ++paren;
    }
    if (paren >= limit || s_[paren] != '(') {
      Literal(begin, quote);  // not a valid raw string: lex it as an ordinary one
      return;
    }
    const std::string terminator = ")" + s_.substr(quote + 1, paren - quote - 1) + "\"";
    const size_t found = s_.find(terminator, paren + 1);
    const size_t end = found == std::string::npos ? s_.size() : found + terminator.size();
    Emit(TokenKind::kString, begin, Suffix(end));
  }

  // Past a user-defined literal suffix ("abc"sv, 'x'_c), if any.
  size_t Suffix(size_t end) const {
    while (end < s_.size() && IsIdentChar(s_[end])) ++end;
    return end;
  }

  // Digraphs are spelled as the tokens they stand for (`<%` is `{`), so no
  // check has to know them; `<::` not followed by ':' or '>' is `<` `::`.
  void Punct() {
    static constexpr std::string_view kDigraphs[][2] = {
        {"%:%:", "##"}, {"<%", "{"}, {"%>", "}"}, {"<:", "["}, {":>", "]"}, {"%:", "#"}};
    const bool template_of_global = StartsWith("<::") && !StartsWith("<:::") &&
                                    !StartsWith("<::>");
    for (const auto& [digraph, meaning] : kDigraphs) {
      if (StartsWith(digraph) && !(digraph == "<:" && template_of_global)) {
        Emit(TokenKind::kPunct, i_, i_ + digraph.size(), std::string(meaning));
        return;
      }
    }
    for (std::string_view multi : {"::", "->", "...", "##"}) {
      if (StartsWith(multi)) {
        Emit(TokenKind::kPunct, i_, i_ + multi.size());
        return;
      }
    }
    Emit(TokenKind::kPunct, i_, i_ + 1);
  }

  Spliced src_;
  const std::string& s_;
  size_t i_ = 0;
  bool at_line_start_ = true;
  bool in_directive_ = false;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Tokenize(std::string_view source) { return Lexer(source).Run(); }

std::vector<size_t> MatchBrackets(const std::vector<Token>& tokens) {
  std::vector<size_t> partner(tokens.size(), tokens.size());
  constexpr std::string_view kOpen = "([{";
  constexpr std::string_view kClose = ")]}";
  std::vector<size_t> open[3];
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind != TokenKind::kPunct || tokens[i].text.size() != 1) continue;
    const char c = tokens[i].text[0];
    if (const size_t kind = kOpen.find(c); kind != std::string_view::npos) {
      open[kind].push_back(i);
    } else if (const size_t closing = kClose.find(c);
               closing != std::string_view::npos && !open[closing].empty()) {
      partner[i] = open[closing].back();
      partner[open[closing].back()] = i;
      open[closing].pop_back();
    }
  }
  return partner;
}

}  // namespace faultline::lint
