// tools/lint/rules.h — the checks of the determinism lint, over one file's
// tokens and the Scope that resolves its names (internal to tools/lint).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/lint/determinism_lint.h"
#include "tools/lint/scope.h"
#include "tools/lint/tokenizer.h"

namespace faultline::lint {

struct FileContext {
  std::string_view path;  // from the repository root, e.g. "core/wal/wal.cc"
  const std::vector<Token>& tokens;
  const std::vector<size_t>& partner;  // MatchBrackets(tokens)
  const Scope& scope;
  std::vector<Violation>& out;

  void Report(int line, std::string_view rule, std::string_view message) const {
    out.push_back(Violation{std::string(path), line, std::string(rule), std::string(message)});
  }
};

// Forbidden names: threads, OS locks, sleeping, real clocks, randomness, the
// environment, files and processes, whether qualified, aliased or opened by
// a using-directive (name_rules.cc).
void CheckNames(const FileContext& file);

// Includes: OS and forbidden library headers in either quoting, headers
// named by a macro, and layering (include_rules.cc).
void CheckIncludes(const FileContext& file);

// Candidate repository paths of the files `path` includes (quoted: from the
// root and from its own directory; angled: from the root), for LintTree to
// keep those that exist (include_rules.cc).
std::vector<std::string> IncludedPaths(std::string_view path, const std::vector<Token>& tokens);

// Iteration over hash containers; ordered containers keyed by pointers,
// hashes of pointers and pointers sorted by address (container_rules.cc).
void CheckContainers(const FileContext& file);

// `catch (...)` and `catch (FiberKilled)` must rethrow (handler_rules.cc).
void CheckHandlers(const FileContext& file);

}  // namespace faultline::lint
