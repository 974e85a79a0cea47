// tools/lint/scope.cc — see scope.h.
#include "tools/lint/scope.h"

#include <algorithm>
#include <string_view>

namespace faultline::lint {
namespace {

constexpr int kMaxAliasExpansions = 8;  // bounds alias chains (and cycles)

bool IsIdentifier(const std::vector<Token>& tokens, size_t i) {
  return i < tokens.size() && tokens[i].kind == TokenKind::kIdentifier;
}
bool IsAt(const std::vector<Token>& tokens, size_t i, std::string_view text) {
  return i < tokens.size() && Is(tokens[i], text);
}

std::vector<std::string> Split(const std::string& full) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= full.size()) {
    const size_t sep = full.find("::", start);
    parts.push_back(full.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  return parts;
}

// Joins parts with "::", dropping inline namespaces of the standard library
// (std::chrono::_V2::system_clock is std::chrono::system_clock).
std::string Join(const std::vector<std::string>& parts) {
  std::string full;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool inline_namespace = i > 0 && i + 1 < parts.size() && !parts[i].empty() &&
                                  parts[i][0] == '_';
    if (inline_namespace) continue;
    if (!full.empty()) full += "::";
    full += parts[i];
  }
  return full;
}

std::vector<std::string> Expand(std::vector<std::string> parts, const Scope& scope) {
  for (int round = 0; round < kMaxAliasExpansions; ++round) {
    const auto alias = scope.aliases.find(parts.front());
    if (alias == scope.aliases.end()) break;
    std::vector<std::string> expanded = Split(alias->second);
    if (expanded == std::vector<std::string>{parts.front()}) break;
    expanded.insert(expanded.end(), parts.begin() + 1, parts.end());
    parts = std::move(expanded);
  }
  return parts;
}

// `using NAME = type;` or `typedef type NAME;`: what the type tokens
// [begin, end) tell about NAME.
void RecordTypeAlias(const std::vector<Token>& tokens, size_t begin, size_t end,
                     const std::string& alias, Scope& scope) {
  while (begin < end && (IsAt(tokens, begin, "typename") || IsAt(tokens, begin, "const") ||
                         IsAt(tokens, begin, "struct") || IsAt(tokens, begin, "class"))) {
    ++begin;
  }
  const auto name = ReadName(tokens, begin);
  if (!name) return;
  if (IsHashContainer(*name, scope)) scope.hash_types.insert(alias);
  if (IsPointerType(tokens, begin, end, scope)) scope.pointer_types.insert(alias);
  if (name->end == end) scope.aliases[alias] = Resolve(*name, scope).front();
}

// Whether the type that starts at tokens[type_begin] is that of a function
// parameter or a template argument (then `,` does not start a declarator).
bool InParameterList(const std::vector<Token>& tokens, size_t type_begin) {
  size_t i = type_begin;
  while (i > 0 && tokens[i - 1].kind == TokenKind::kIdentifier) {
    const std::string& word = tokens[i - 1].text;
    if (word != "const" && word != "volatile" && word != "static" && word != "mutable" &&
        word != "inline" && word != "constexpr" && word != "thread_local" && word != "typename") {
      break;
    }
    --i;
  }
  return i > 0 && (Is(tokens[i - 1], "(") || Is(tokens[i - 1], ",") || Is(tokens[i - 1], "<"));
}

// Index of the ',' or ';' that ends the initializer starting at tokens[i],
// or tokens.size() if a bracket closes first or none is within
// kMaxScanTokens.
size_t SkipInitializer(const std::vector<Token>& tokens, size_t i) {
  int depth = 0;
  const size_t limit = std::min(tokens.size(), i + kMaxScanTokens);
  for (; i < limit; ++i) {
    const Token& t = tokens[i];
    if (t.kind != TokenKind::kPunct) continue;
    if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
    if ((t.text == ")" || t.text == "]" || t.text == "}") && --depth < 0) return tokens.size();
    if (depth == 0 && (t.text == "," || t.text == ";")) return i;
  }
  return tokens.size();
}

// The sets a declaration of some type adds its names to.
struct Declared {
  std::set<std::string>& variables;
  std::set<std::string>* functions;  // null: functions are not recorded
};

// One declarator at tokens[i] (`&name`, `*const name`): records its name;
// returns the index of the name, or tokens.size() if there is none.
size_t RecordDeclarator(const std::vector<Token>& tokens, size_t i, const Declared& into) {
  while (IsAt(tokens, i, "const") || IsAt(tokens, i, "volatile") || IsAt(tokens, i, "&") ||
         IsAt(tokens, i, "*")) {
    ++i;
  }
  if (!IsIdentifier(tokens, i) || i + 1 >= tokens.size()) return tokens.size();
  const Token& next = tokens[i + 1];
  if (Is(next, ";") || Is(next, "=") || Is(next, "{") || Is(next, ",") || Is(next, ")") ||
      Is(next, "[") || Is(next, "(") || next.kind == TokenKind::kIdentifier) {
    // `name(` is a function returning the container or a variable
    // initialised with parentheses; an identifier after the name is an
    // annotation macro (`GUARDED_BY(mu)`).
    into.variables.insert(tokens[i].text);
    if (Is(next, "(") && into.functions != nullptr) into.functions->insert(tokens[i].text);
    return i;
  }
  return tokens.size();
}

// A declaration whose type is `name` (with its template arguments): records
// the declared variables, members, parameter or function.
void RecordDeclaration(const std::vector<Token>& tokens, const WrittenName& name,
                       const Declared& into) {
  size_t declared = RecordDeclarator(tokens, SkipTemplateArguments(tokens, name.end), into);
  if (declared >= tokens.size() || InParameterList(tokens, name.first)) return;
  if (IsAt(tokens, declared + 1, "(")) return;  // a function, or one variable
  while (true) {  // `declared` grows each round: bounded by the file
    const size_t comma = SkipInitializer(tokens, declared + 1);
    if (!IsAt(tokens, comma, ",")) return;
    declared = RecordDeclarator(tokens, comma + 1, into);
    if (declared >= tokens.size()) return;
  }
}

// `auto& view = table;` (or `{table}`, `(table)`) makes `view` a hash
// container too.
void RecordHashReference(const std::vector<Token>& tokens, size_t i, Scope& scope) {
  size_t j = i + 1;
  while (IsAt(tokens, j, "const") || IsAt(tokens, j, "&") || IsAt(tokens, j, "*")) ++j;
  if (!IsIdentifier(tokens, j) || !IsIdentifier(tokens, j + 2) ||
      scope.hash_variables.count(tokens[j + 2].text) == 0) {
    return;
  }
  const bool assigned = IsAt(tokens, j + 1, "=") && IsAt(tokens, j + 3, ";");
  const bool braced = IsAt(tokens, j + 1, "{") && IsAt(tokens, j + 3, "}");
  const bool parenthesised = IsAt(tokens, j + 1, "(") && IsAt(tokens, j + 3, ")");
  if (assigned || braced || parenthesised) scope.hash_variables.insert(tokens[j].text);
}

// The ';' that ends the declaration at tokens[from] (tokens.size() if none
// within kMaxScanTokens).
size_t FindSemicolon(const std::vector<Token>& tokens, size_t from) {
  const size_t limit = std::min(tokens.size(), from + kMaxScanTokens);
  for (; from < limit; ++from) {
    if (Is(tokens[from], ";")) return from;
  }
  return tokens.size();
}

// One declaration that starts at tokens[i] ("namespace", "using" or
// "typedef"), if it is one the scope records.
void CollectDeclaration(const std::vector<Token>& tokens, size_t i, Scope& scope) {
  const std::string& word = tokens[i].text;
  if (word == "namespace" && IsIdentifier(tokens, i + 1) && IsAt(tokens, i + 2, "=")) {
    if (const auto target = ReadName(tokens, i + 3)) {
      scope.aliases[tokens[i + 1].text] = Resolve(*target, scope).front();
    }
  } else if (word == "using" && IsAt(tokens, i + 1, "namespace")) {
    if (const auto target = ReadName(tokens, i + 2)) {
      for (const std::string& full : Resolve(*target, scope)) scope.open_namespaces.insert(full);
    }
  } else if (word == "using" && IsIdentifier(tokens, i + 1) && IsAt(tokens, i + 2, "=")) {
    RecordTypeAlias(tokens, i + 3, FindSemicolon(tokens, i + 3), tokens[i + 1].text, scope);
  } else if (word == "using") {
    const size_t at = IsAt(tokens, i + 1, "typename") ? i + 2 : i + 1;
    const auto used = ReadName(tokens, at);
    if (used && used->parts.size() > 1 && IsAt(tokens, used->end, ";")) {
      scope.aliases[used->parts.back()] = Resolve(*used, scope).front();
    }
  } else if (word == "typedef") {
    const size_t semicolon = FindSemicolon(tokens, i + 1);
    if (semicolon > i + 2 && IsIdentifier(tokens, semicolon - 1)) {
      RecordTypeAlias(tokens, i + 1, semicolon - 1, tokens[semicolon - 1].text, scope);
    }
  }
}

}  // namespace

bool IsExpressionKeyword(std::string_view word) {
  static const std::set<std::string_view> kKeywords = {
      "return", "co_return", "co_yield", "co_await", "throw", "case", "else", "do", "new",
      "delete", "sizeof", "not", "and", "or", "xor", "bitand", "bitor", "compl"};
  return kKeywords.count(word) > 0;
}

bool StartsName(const std::vector<Token>& tokens, size_t i) {
  if (i >= tokens.size()) return false;
  const bool after_prefix = i > 0 && (Is(tokens[i - 1], "::"));
  if (tokens[i].kind == TokenKind::kIdentifier) return !after_prefix;
  if (!Is(tokens[i], "::") || !IsIdentifier(tokens, i + 1)) return false;
  if (i == 0) return true;
  const Token& before = tokens[i - 1];
  if (Is(before, ">")) return false;
  return before.kind != TokenKind::kIdentifier || IsExpressionKeyword(before.text);
}

std::optional<WrittenName> ReadName(const std::vector<Token>& tokens, size_t i) {
  WrittenName name;
  name.first = i;
  if (IsAt(tokens, i, "::") && IsIdentifier(tokens, i + 1)) {
    name.global = true;
    ++i;
  }
  if (!IsIdentifier(tokens, i)) return std::nullopt;
  name.member = name.first > 0 && (Is(tokens[name.first - 1], ".") || Is(tokens[name.first - 1], "->"));
  name.parts.push_back(tokens[i].text);
  ++i;
  while (IsAt(tokens, i, "::")) {
    size_t next = i + 1;
    if (IsAt(tokens, next, "template")) ++next;
    if (!IsIdentifier(tokens, next)) break;
    name.parts.push_back(tokens[next].text);
    i = next + 1;
  }
  name.end = i;
  return name;
}

void Scope::Merge(const Scope& other) {
  for (const auto& [alias, full] : other.aliases) aliases.emplace(alias, full);
  open_namespaces.insert(other.open_namespaces.begin(), other.open_namespaces.end());
  hash_types.insert(other.hash_types.begin(), other.hash_types.end());
  pointer_types.insert(other.pointer_types.begin(), other.pointer_types.end());
  hash_variables.insert(other.hash_variables.begin(), other.hash_variables.end());
  hash_functions.insert(other.hash_functions.begin(), other.hash_functions.end());
  pointer_sequences.insert(other.pointer_sequences.begin(), other.pointer_sequences.end());
}

std::vector<std::string> Resolve(const WrittenName& name, const Scope& scope) {
  if (name.global) return {Join(name.parts)};
  std::vector<std::string> candidates = {Join(Expand(name.parts, scope))};
  for (const std::string& open : scope.open_namespaces) {
    std::vector<std::string> parts = Split(open);
    parts.insert(parts.end(), name.parts.begin(), name.parts.end());
    candidates.push_back(Join(parts));
  }
  return candidates;
}

bool IsHashContainer(const WrittenName& name, const Scope& scope) {
  static const std::set<std::string> kHashContainers = {
      "std::unordered_map", "std::unordered_set", "std::unordered_multimap",
      "std::unordered_multiset", "absl::flat_hash_map", "absl::flat_hash_set",
      "absl::node_hash_map", "absl::node_hash_set"};
  if (name.parts.size() == 1 && scope.hash_types.count(name.parts[0]) > 0) return true;
  for (const std::string& full : Resolve(name, scope)) {
    if (kHashContainers.count(full) > 0) return true;
  }
  return false;
}

bool IsPointerType(const std::vector<Token>& tokens, size_t begin, size_t end, const Scope& scope) {
  if (begin >= end) return false;
  if (Is(tokens[end - 1], "*")) return true;
  while (begin < end && (IsAt(tokens, begin, "const") || IsAt(tokens, begin, "volatile"))) ++begin;
  const auto name = ReadName(tokens, begin);
  if (!name) return false;
  if (name->parts.size() == 1 && name->end == end && scope.pointer_types.count(name->parts[0]) > 0) {
    return true;
  }
  for (const std::string& full : Resolve(*name, scope)) {
    if (full == "std::shared_ptr" || full == "std::unique_ptr" || full == "std::weak_ptr") return true;
  }
  return false;
}

// `std::unique_ptr<absl::flat_hash_map<K, V>>`, `std::optional<...>`: what
// `*holder` or `holder->begin()` iterates is a hash container.
bool HoldsHashContainer(const std::vector<Token>& tokens, const WrittenName& name,
                        const Scope& scope) {
  if (!IsAt(tokens, name.end, "<")) return false;
  const size_t at = IsAt(tokens, name.end + 1, "const") ? name.end + 2 : name.end + 1;
  const auto held = ReadName(tokens, at);
  if (!held || !IsHashContainer(*held, scope)) return false;
  for (const std::string& full : Resolve(name, scope)) {
    if (full == "std::unique_ptr" || full == "std::shared_ptr" || full == "std::optional") {
      return true;
    }
  }
  return false;
}

bool IsPointerSequence(const std::vector<Token>& tokens, const WrittenName& name,
                       const Scope& scope) {
  if (!IsAt(tokens, name.end, "<")) return false;
  bool sequence = false;
  for (const std::string& full : Resolve(name, scope)) {
    sequence = sequence || full == "std::vector" || full == "std::deque" ||
               full == "std::array" || full == "absl::InlinedVector" || full == "absl::FixedArray";
  }
  if (!sequence) return false;  // before any scan: `a < b` is not worth one
  const size_t close = SkipTemplateArguments(tokens, name.end);
  if (close == name.end) return false;
  size_t element_end = name.end + 1;  // the first template argument ends at ',' or '>'
  int depth = 0;
  for (; element_end + 1 < close; ++element_end) {
    if (Is(tokens[element_end], "<") || Is(tokens[element_end], "(")) ++depth;
    if (Is(tokens[element_end], ">") || Is(tokens[element_end], ")")) --depth;
    if (depth == 0 && Is(tokens[element_end], ",")) break;
  }
  return IsPointerType(tokens, name.end + 1, element_end, scope);
}

size_t SkipTemplateArguments(const std::vector<Token>& tokens, size_t i) {
  if (!IsAt(tokens, i, "<")) return i;
  int angles = 0;
  int parens = 0;
  const size_t limit = std::min(tokens.size(), i + kMaxScanTokens);
  for (size_t j = i; j < limit; ++j) {
    const std::string& t = tokens[j].text;
    if (tokens[j].kind != TokenKind::kPunct) continue;
    if (t == ";" || t == "{" || t == "}") return i;
    if (t == "(") ++parens;
    if (t == ")") --parens;
    if (parens > 0) continue;
    if (t == "<") ++angles;
    if (t == ">" && --angles == 0) return j + 1;
  }
  return i;
}

void CollectScope(const std::vector<Token>& tokens, Scope& scope) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!StartsName(tokens, i)) continue;
    const std::string& word = tokens[i].text;
    if (word == "namespace" || word == "using" || word == "typedef") {
      CollectDeclaration(tokens, i, scope);
    } else if (word == "auto") {
      RecordHashReference(tokens, i, scope);
    } else {
      const auto name = ReadName(tokens, i);
      if (!name || name->member) continue;
      if (IsHashContainer(*name, scope) || HoldsHashContainer(tokens, *name, scope)) {
        RecordDeclaration(tokens, *name, Declared{scope.hash_variables, &scope.hash_functions});
      } else if (IsPointerSequence(tokens, *name, scope)) {
        RecordDeclaration(tokens, *name, Declared{scope.pointer_sequences, nullptr});
      }
    }
  }
}

}  // namespace faultline::lint
