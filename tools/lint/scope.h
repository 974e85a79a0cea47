// tools/lint/scope.h — which entity a written name may denote.
//
// `s::thread`, `thread` after `using namespace std;`, `Clock::now` after
// `using Clock = std::chrono::steady_clock;` all name std entities the lint
// forbids. The Scope of a file records the simple aliases that make this
// possible — namespace aliases, using-directives, using-declarations and
// type aliases that name a qualified type — plus what the container rules
// need: type aliases of hash containers and pointers, the variables and
// members declared with a hash container type (every declarator of the
// declaration), the functions that return one, and the variables that hold
// a sequence of pointers (which sort by address). A file's Scope includes what
// the core/ headers it includes declare (see LintTree).
//
// Scopes are flat: an alias declared anywhere in a file (or in a header it
// includes) is taken to be visible everywhere in it. That can only make the
// lint stricter.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/lint/tokenizer.h"

namespace faultline::lint {

// A possibly qualified name as written, e.g. `::sleep`, `s::thread`,
// `std::chrono::system_clock`.
struct WrittenName {
  std::vector<std::string> parts;  // {"s", "thread"}
  bool global = false;             // written with a leading "::"
  bool member = false;             // after '.' or '->': a member, not a free name
  size_t first = 0;                // index of its first token (the "::" if global)
  size_t end = 0;                  // index just past its last token
};

// Whether `word` may precede an expression (`return rand()`), unlike a type
// or a name that precedes a declared name (`int64_t time() const`).
bool IsExpressionKeyword(std::string_view word);

// Whether a name starts at tokens[i], rather than continuing one
// (`x::y`, `vector<int>::size_type`).
bool StartsName(const std::vector<Token>& tokens, size_t i);

// The name starting at tokens[i] (an identifier or "::" identifier), if any.
std::optional<WrittenName> ReadName(const std::vector<Token>& tokens, size_t i);

struct Scope {
  std::map<std::string, std::string> aliases;  // alias or used name -> full name
  std::set<std::string> open_namespaces;       // from using-directives
  std::set<std::string> hash_types;            // aliases of hash container types
  std::set<std::string> pointer_types;         // aliases of pointer types
  std::set<std::string> hash_variables;        // declared with a hash container type
  std::set<std::string> hash_functions;        // return a hash container (or its reference)
  std::set<std::string> pointer_sequences;     // vectors, deques, arrays of pointers

  void Merge(const Scope& other);
};

// Full names (no leading "::", inline namespaces such as _V2 dropped) that
// `name` may denote in `scope`: the name itself with aliases expanded, and
// the name under each namespace opened by a using-directive.
std::vector<std::string> Resolve(const WrittenName& name, const Scope& scope);

// Adds to `scope` what `tokens` declare (in order: later declarations may use
// earlier aliases).
void CollectScope(const std::vector<Token>& tokens, Scope& scope);

// Whether a full name is a hash container type (std::unordered_*, absl's
// flat/node hash containers), including aliases recorded in `scope`.
bool IsHashContainer(const WrittenName& name, const Scope& scope);

// Whether the type written as tokens[begin, end) is ordered by address: a
// raw pointer, a smart pointer, or an alias of one recorded in `scope`.
bool IsPointerType(const std::vector<Token>& tokens, size_t begin, size_t end, const Scope& scope);

// How far the scans that look for the end of a declaration or a template
// argument list go: far beyond any real one, and it keeps hostile input
// (`a < a < a ...` with no end) linear.
constexpr size_t kMaxScanTokens = 1'000;

// Whether `name`, followed by its template arguments in `tokens`, is a smart
// pointer or optional holding a hash container (recorded as one).
bool HoldsHashContainer(const std::vector<Token>& tokens, const WrittenName& name,
                        const Scope& scope);

// Whether `name`, followed by its template arguments in `tokens`, is a
// sequence of pointers: std::vector<T*>, std::array<std::unique_ptr<T>, N>...
bool IsPointerSequence(const std::vector<Token>& tokens, const WrittenName& name,
                       const Scope& scope);

// Index just past the template argument list that starts at tokens[i] ('<'),
// or i if tokens[i] is not '<'. Stops at ';', '{' or '}' if unbalanced, and
// after kMaxScanTokens.
size_t SkipTemplateArguments(const std::vector<Token>& tokens, size_t i);

}  // namespace faultline::lint
