// tools/lint/container_rules.cc — container order (see rules.h).
//
// Abseil salts its hash per process, and std::hash of a pointer is its
// address: iterating a hash container visits elements in an order that
// changes between runs of the same seed. Lookups are fine. The lint knows a
// hash container by the variables, members and parameters declared with such
// a type (or an alias of one) in the file or the core/ headers it includes,
// and reports a range-for over one, a call of begin() on one, and passing one
// to std::begin, a std::ranges algorithm or an absl::c_ algorithm.
//
// An ordered container keyed by pointers (or smart pointers) iterates in
// address order, which changes between runs too: reported where declared,
// unless it is given a comparator other than std::less and its kin. So is
// `std::hash<T*>` written out: its value is the address. And so is a vector
// (deque, array) of pointers sorted without a comparator.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/lint/rules.h"

namespace faultline::lint {
namespace {

constexpr std::string_view kHashMessage =
    "iterating a hash container visits elements in a per-process order: iterate a sorted copy "
    "of the keys or use an ordered container";
constexpr std::string_view kPointerSortMessage =
    "sorting pointers without a comparator orders them by address, which changes from run to "
    "run: compare what they point to";
constexpr std::string_view kPointerHashMessage =
    "std::hash of a pointer is its address, which changes from run to run: hash an id";
constexpr std::string_view kPointerMessage =
    "an ordered container keyed by pointers iterates in address order, which changes from run "
    "to run: key it by an id";

bool IsAt(const std::vector<Token>& tokens, size_t i, std::string_view text) {
  return i < tokens.size() && Is(tokens[i], text);
}

// Whether tokens[i] is a hash container used as a whole (not indexed,
// called, or one of its members taken): a variable, or the call of a
// function that returns one.
bool IsWholeHashContainer(const FileContext& file, size_t i) {
  const std::vector<Token>& tokens = file.tokens;
  const Token& token = tokens[i];
  if (token.kind != TokenKind::kIdentifier) return false;
  size_t after = i + 1;
  if (file.scope.hash_functions.count(token.text) > 0 && IsAt(tokens, after, "(")) {
    after = file.partner[after] + 1;
  } else if (file.scope.hash_variables.count(token.text) == 0) {
    return false;
  }
  for (std::string_view next : {"(", "[", ".", "->", "::"}) {
    if (IsAt(tokens, after, next)) return false;
  }
  return true;
}

// Whether the expression that ends at tokens[last] is a hash container:
// `table` or `Entries()`.
bool EndsWithHashContainer(const FileContext& file, size_t last) {
  const std::vector<Token>& tokens = file.tokens;
  if (tokens[last].kind == TokenKind::kIdentifier) {
    return file.scope.hash_variables.count(tokens[last].text) > 0;
  }
  if (!Is(tokens[last], ")")) return false;
  const size_t open = file.partner[last];
  return open > 0 && open < tokens.size() &&
         file.scope.hash_functions.count(tokens[open - 1].text) > 0;
}

// `for (decl : range)` whose range is a hash container.
void CheckRangeFor(const FileContext& file, size_t for_token) {
  const std::vector<Token>& tokens = file.tokens;
  if (!IsAt(tokens, for_token + 1, "(")) return;
  const size_t close = file.partner[for_token + 1];
  if (close >= tokens.size()) return;
  size_t colon = 0;
  for (size_t i = for_token + 2; i < close; ++i) {
    const std::string& t = tokens[i].text;
    if (tokens[i].kind != TokenKind::kPunct) continue;
    if (t == "(" || t == "[" || t == "{") {
      if (file.partner[i] > close) return;  // unbalanced: not a statement we can read
      i = file.partner[i];  // only the top level of the header matters
      continue;
    }
    if (t == ";") colon = 0;  // an init-statement, or a classic for
    if (t == "?") return;     // a conditional expression: not a range-for
    if (t == ":" && colon == 0) colon = i;
  }
  if (colon == 0) return;
  for (size_t i = colon + 1; i < close; ++i) {
    if (IsWholeHashContainer(file, i)) {
      file.Report(tokens[for_token].line, "hash-iteration", kHashMessage);
      return;
    }
  }
}

// `table.begin()`, `std::begin(table)`, `std::ranges::for_each(table, f)`,
// `table | std::views::keys`.
void CheckIteratorCall(const FileContext& file, size_t i) {
  const std::vector<Token>& tokens = file.tokens;
  if (Is(tokens[i], "|") && i > 0 && EndsWithHashContainer(file, i - 1)) {
    file.Report(tokens[i].line, "hash-iteration", kHashMessage);  // a range adaptor
    return;
  }
  if ((Is(tokens[i], ".") || Is(tokens[i], "->")) && i > 0 && i + 1 < tokens.size()) {
    const std::string& method = tokens[i + 1].text;
    const bool begins = method == "begin" || method == "cbegin" || method == "rbegin" ||
                        method == "crbegin";
    if (begins && EndsWithHashContainer(file, i - 1)) {
      file.Report(tokens[i].line, "hash-iteration", kHashMessage);
    }
    return;
  }
  if (!StartsName(tokens, i)) return;
  const auto name = ReadName(tokens, i);
  if (!name || name->member || !IsAt(tokens, name->end, "(")) return;
  for (const std::string& full : Resolve(*name, file.scope)) {
    const bool iterates = full == "std::begin" || full == "std::cbegin" ||
                          full.substr(0, 13) == "std::ranges::" || full.substr(0, 8) == "absl::c_";
    const size_t argument = name->end + 1;
    if (iterates && argument < tokens.size() && IsWholeHashContainer(file, argument)) {
      file.Report(tokens[i].line, "hash-iteration", kHashMessage);
      return;
    }
  }
}

// The top-level template arguments of the list that opens at tokens[open]
// and closes just before `close`, as [begin, end) token ranges.
std::vector<std::pair<size_t, size_t>> TemplateArguments(const std::vector<Token>& tokens,
                                                         size_t open, size_t close) {
  std::vector<std::pair<size_t, size_t>> arguments;
  size_t begin = open + 1;
  int depth = 0;
  for (size_t i = open + 1; i + 1 < close; ++i) {
    if (Is(tokens[i], "<") || Is(tokens[i], "(")) ++depth;
    if (Is(tokens[i], ">") || Is(tokens[i], ")")) --depth;
    if (depth == 0 && Is(tokens[i], ",")) {
      arguments.emplace_back(begin, i);
      begin = i + 1;
    }
  }
  arguments.emplace_back(begin, close - 1);
  return arguments;
}

// Whether the comparator written as tokens[begin, end) compares addresses.
bool ComparesAddresses(const FileContext& file, size_t begin, size_t end) {
  const auto name = ReadName(file.tokens, begin);
  if (!name || name->end > end) return false;
  for (const std::string& full : Resolve(*name, file.scope)) {
    for (std::string_view standard : {"std::less", "std::greater", "std::less_equal",
                                      "std::greater_equal", "std::owner_less"}) {
      if (full == standard) return true;
    }
  }
  return false;
}

// `std::set<T*>`, `std::map<std::shared_ptr<T>, V>`, ... unless given a
// comparator of its own (which may order by id); and `std::hash<T*>`, whose
// value is an address.
void CheckPointerKey(const FileContext& file, size_t i) {
  struct Ordered {
    std::string_view name;
    size_t comparator;  // index of the comparator among the template arguments
  };
  static constexpr Ordered kOrdered[] = {
      {"std::set", 1}, {"std::multiset", 1}, {"std::map", 2}, {"std::multimap", 2},
      {"std::priority_queue", 2}, {"absl::btree_set", 1}, {"absl::btree_multiset", 1},
      {"absl::btree_map", 2}, {"absl::btree_multimap", 2}};
  const std::vector<Token>& tokens = file.tokens;
  if (!StartsName(tokens, i)) return;
  const auto name = ReadName(tokens, i);
  if (!name || name->member || !IsAt(tokens, name->end, "<")) return;
  for (const std::string& full : Resolve(*name, file.scope)) {
    const Ordered* ordered = nullptr;
    for (const Ordered& candidate : kOrdered) {
      if (full == candidate.name) ordered = &candidate;
    }
    if (ordered == nullptr && full != "std::hash") continue;
    // Only now read the template arguments: `a < b` is not worth a scan.
    const size_t close = SkipTemplateArguments(tokens, name->end);
    if (close == name->end) return;
    const auto arguments = TemplateArguments(tokens, name->end, close);
    if (!IsPointerType(tokens, arguments[0].first, arguments[0].second, file.scope)) return;
    if (ordered == nullptr) {
      file.Report(tokens[i].line, "pointer-hash", kPointerHashMessage);
      return;
    }
    const bool own_comparator =
        arguments.size() > ordered->comparator &&
        !ComparesAddresses(file, arguments[ordered->comparator].first,
                           arguments[ordered->comparator].second);
    if (!own_comparator) file.Report(tokens[i].line, "pointer-order", kPointerMessage);
    return;
  }
}

// The top-level arguments of the call whose '(' is tokens[open], as the
// index of each argument's first token.
std::vector<size_t> CallArguments(const FileContext& file, size_t open) {
  const size_t close = file.partner[open];
  std::vector<size_t> starts;
  if (close >= file.tokens.size() || close == open + 1) return starts;
  starts.push_back(open + 1);
  for (size_t i = open + 1; i < close; ++i) {
    const Token& t = file.tokens[i];
    if ((Is(t, "(") || Is(t, "[") || Is(t, "{")) && file.partner[i] < close) {
      i = file.partner[i];
    } else if (Is(t, ",")) {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

// `std::sort(nodes.begin(), nodes.end())` or `std::ranges::sort(nodes)` of a
// sequence of pointers, without a comparator: sorted by address.
void CheckPointerSort(const FileContext& file, size_t i) {
  const std::vector<Token>& tokens = file.tokens;
  if (!StartsName(tokens, i)) return;
  const auto name = ReadName(tokens, i);
  if (!name || name->member || !IsAt(tokens, name->end, "(")) return;
  for (const std::string& full : Resolve(*name, file.scope)) {
    const bool sorts = full == "std::sort" || full == "std::stable_sort";
    const bool ranges_sorts = full == "std::ranges::sort" || full == "std::ranges::stable_sort";
    if (!sorts && !ranges_sorts) continue;
    const std::vector<size_t> arguments = CallArguments(file, name->end);
    const bool no_comparator = sorts ? arguments.size() == 2 : arguments.size() == 1;
    if (no_comparator && file.scope.pointer_sequences.count(tokens[arguments[0]].text) > 0) {
      file.Report(tokens[i].line, "pointer-order", kPointerSortMessage);
    }
    return;
  }
}

}  // namespace

void CheckContainers(const FileContext& file) {
  for (size_t i = 0; i < file.tokens.size(); ++i) {
    if (Is(file.tokens[i], "for")) CheckRangeFor(file, i);
    CheckIteratorCall(file, i);
    CheckPointerKey(file, i);
    CheckPointerSort(file, i);
  }
}

}  // namespace faultline::lint
