// tools/lint/determinism_lint.h — the rules that keep core/ deterministic.
//
// Production code in core/ (outside core/posix, the real world) may reach
// the outside only through the core/io and core/runtime seams; otherwise a
// simulated run could not be replayed bit for bit. This lint rejects, with
// file and line: threads, OS locks and blocking futures, sleeping, real
// clocks (the CPU's cycle counter too), C/OS/CPU randomness and std engines,
// distributions and shuffles, the environment, files and processes outside
// the io seam, Abseil's clock, locks and bit generators, OS calls and
// headers, inline assembly, headers included through
// a macro, includes of sim/, scenarios/, harness/, reports/ (or core/posix),
// iteration over hash containers, ordered containers keyed by pointers,
// pointers sorted by address, hashes of pointers and Abseil's per-process
// salted hash, a
// `catch (...)` that does not always rethrow, and a handler of FiberKilled
// that does not (both would swallow a crash's unwinding).
//
// It works on tokens (tools/lint/tokenizer.h), so comments and literals never
// trip it and spacing never hides a name, and resolves simple aliases and
// using-directives (tools/lint/scope.h). Being lexical it cannot see through
// macro expansion or templates; the lint_core_symbols test (tools/lint/
// check_core_symbols.cmake) checks what core/'s compiled libraries reference.
#pragma once

#include <cstddef>
#include <filesystem>
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

enum class FileKind {
  kIgnored,  // outside core/, under core/posix/, or documentation/build files
  kSource,   // C++ (any usual extension, .inc/.ipp/.tcc included, or none)
  kUnknown,  // anything else under core/: reported, so nothing hides there
};

// What the lint does with `relative_path` (from the repository root,
// '/'-separated).
FileKind Classify(std::string_view relative_path);

// Whether `relative_path` is linted as C++ source.
inline bool IsLinted(std::string_view relative_path) {
  return Classify(relative_path) == FileKind::kSource;
}

// All violations in one file's contents, on its own (the includes it names
// are not read).
std::vector<Violation> LintSource(std::string_view relative_path, std::string_view contents);

struct TreeResult {
  size_t files_checked = 0;
  std::vector<Violation> violations;  // by file, then line
  std::string error;                  // non-empty if the tree could not be read
};

// Lints every file under root/core, each with the aliases and hash container
// declarations of the core/ headers it includes (transitively).
TreeResult LintTree(const std::filesystem::path& root);

}  // namespace faultline::lint
