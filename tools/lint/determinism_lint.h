// tools/lint/determinism_lint.h — the rules that keep core/ deterministic.
//
// Production code in core/ (outside core/posix, the real world) may reach
// the outside only through the core/io and core/runtime seams; otherwise a
// simulated run could not be replayed bit for bit. This lint rejects, with
// file and line: threads, OS mutexes and condition variables, sleeping, real
// clocks, C/OS randomness and std distributions, environment variables,
// Abseil's clock and bit generators, OS headers (syscalls), includes from
// sim/, scenarios/, harness/ or reports/, and a `catch (...)` that does not
// rethrow (it would swallow runtime::FiberKilled and break crash unwinding)
// unless an earlier handler of the same try catches FiberKilled itself.
//
// Comments and string literals are ignored, so documentation may name what
// it forbids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace faultline::lint {

struct Violation {
  std::string file;
  int line = 0;          // 1-based
  std::string rule;      // short name, e.g. "real-clock"
  std::string message;   // what to do instead
};

// Whether `relative_path` (from the repository root, '/'-separated) is
// subject to the lint: C++ sources under core/ but not under core/posix/.
bool IsLinted(std::string_view relative_path);

// All violations in one file's contents.
std::vector<Violation> LintSource(std::string_view relative_path, std::string_view contents);

// `contents` with comments — and, if `blank_literals`, the insides of string
// and character literals — replaced by spaces (newlines kept, so line
// numbers survive).
std::string StripComments(std::string_view contents, bool blank_literals);

}  // namespace faultline::lint
