// tools/lint/include_rules.cc — includes (see rules.h).
//
// A header is checked by its name whatever the quoting: `#include "thread"`
// finds the standard header just as `<thread>` does. Layering resolves a
// quoted path both from the repository root (the include directory) and from
// the including file's directory, so `../../sim/x.h` is seen for what it is.
#include <string>
#include <string_view>
#include <vector>

#include "tools/lint/rules.h"

namespace faultline::lint {
namespace {

constexpr std::string_view kHeaderMessage =
    "no OS interfaces, threads, clocks, randomness or files in core/ outside core/posix: use "
    "the io and runtime seams";
constexpr std::string_view kLayeringMessage =
    "core/ must not include sim/, scenarios/, harness/, reports/, tests/, tools/ or bench/, nor "
    "core/posix/ outside core/posix";
constexpr std::string_view kMacroMessage =
    "include headers by name in core/, not through a macro: the lint must see what is included";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool IsForbiddenHeader(std::string_view header) {
  static constexpr std::string_view kExact[] = {
      "thread", "mutex", "shared_mutex", "condition_variable", "future", "semaphore", "latch",
      "barrier", "stop_token", "random", "ctime", "time.h", "fstream", "filesystem", "csignal",
      "signal.h", "pthread.h", "threads.h", "unistd.h", "fcntl.h", "dirent.h", "dlfcn.h",
      "poll.h", "sched.h", "spawn.h", "termios.h", "syscall.h", "netdb.h", "ifaddrs.h",
      "absl/time/clock.h", "execution", "experimental/random", "absl/base/internal/cycleclock.h",
      "absl/base/internal/unscaledcycleclock.h"};
  static constexpr std::string_view kPrefixes[] = {
      "sys/", "netinet/", "arpa/", "linux/", "asm/", "experimental/filesystem",
      "absl/synchronization/", "absl/random/", "absl/flags/", "boost/thread", "boost/asio",
      "boost/filesystem", "boost/process", "boost/random"};
  for (std::string_view exact : kExact) {
    if (header == exact) return true;
  }
  for (std::string_view prefix : kPrefixes) {
    if (StartsWith(header, prefix)) return true;
  }
  return false;
}

// `path` with "." and ".." segments resolved; "" if it climbs above the root.
std::string Normalize(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool CrossesLayers(std::string_view resolved) {
  if (resolved.empty()) return true;  // outside the repository
  for (std::string_view top : {"sim/", "scenarios/", "harness/", "reports/", "tests/", "tools/",
                               "bench/", "core/posix/"}) {
    if (StartsWith(resolved, top)) return true;
  }
  return false;
}

void CheckHeader(const FileContext& file, const Token& header) {
  const bool quoted = header.text.front() == '"';
  std::string_view name = header.text;
  name.remove_prefix(1);
  if (!name.empty() && (name.back() == '"' || name.back() == '>')) name.remove_suffix(1);
  const std::string from_root = Normalize(name);
  bool crosses = CrossesLayers(from_root);
  if (quoted && !crosses) {
    const size_t slash = file.path.rfind('/');
    const std::string_view dir = slash == std::string_view::npos ? "" : file.path.substr(0, slash);
    crosses = CrossesLayers(Normalize(std::string(dir) + "/" + std::string(name)));
  }
  if (crosses && !name.empty()) file.Report(header.line, "layering", kLayeringMessage);
  if (IsForbiddenHeader(from_root)) file.Report(header.line, "syscalls", kHeaderMessage);
}

}  // namespace

void CheckIncludes(const FileContext& file) {
  const std::vector<Token>& tokens = file.tokens;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (!tokens[i].directive || !Is(tokens[i], "#")) continue;
    const Token& directive = tokens[i + 1];
    if (!directive.directive || (directive.text != "include" && directive.text != "include_next" &&
                                 directive.text != "import")) {
      continue;
    }
    const bool has_operand = i + 2 < tokens.size() && tokens[i + 2].directive &&
                             tokens[i + 2].line == directive.line && !Is(tokens[i + 2], "#");
    if (has_operand && tokens[i + 2].kind == TokenKind::kHeaderName) {
      CheckHeader(file, tokens[i + 2]);
    } else {
      file.Report(directive.line, "include-macro", kMacroMessage);
    }
  }
}

// The core/ files that `path` includes: by a quoted name, resolved from the
// repository root and from its own directory, or by an angled one, from the
// root (candidates; the caller keeps those that exist).
std::vector<std::string> IncludedPaths(std::string_view path, const std::vector<Token>& tokens) {
  std::vector<std::string> found;
  const size_t slash = path.rfind('/');
  const std::string dir(slash == std::string_view::npos ? "" : path.substr(0, slash));
  for (const Token& token : tokens) {
    if (token.kind != TokenKind::kHeaderName || token.text.size() < 2) continue;
    const std::string_view name = std::string_view(token.text).substr(1, token.text.size() - 2);
    found.push_back(Normalize(name));
    if (token.text[0] == '"') found.push_back(Normalize(dir + "/" + std::string(name)));
  }
  return found;
}

}  // namespace faultline::lint
