// tools/lint/determinism_lint.cc — see determinism_lint.h.
#include "tools/lint/determinism_lint.h"

#include <algorithm>
#include <regex>

namespace faultline::lint {
namespace {

struct Rule {
  const char* name;
  const char* pattern;  // ECMAScript regex over comment-free code
  const char* message;
  // Include rules look at quoted paths, so literals are kept for them.
  bool keeps_literals = false;
};

// Order only affects the order of reports for the same line.
const Rule kRules[] = {
    {"thread", R"(\bstd::(thread|jthread|this_thread)\b)",
     "no threads in core/: spawn fibers with runtime::Spawn"},
    {"os-sync", R"(\bstd::(mutex|recursive_mutex|shared_mutex|timed_mutex|condition_variable(_any)?)\b)",
     "no OS locks in core/: use runtime::Mutex, Event, Channel"},
    {"sleep", R"((^|[^\w.>:])(sleep|usleep|nanosleep)\s*\()",
     "no sleeping in core/: use Executor::SleepFor"},
    {"real-clock", R"(_clock\s*::\s*now\b)",
     "no real clocks in core/: use io::Clock / Executor::NowNs"},
    {"real-clock", R"((^|[^\w.>])(std::)?(time|clock_gettime|gettimeofday)\s*\()",
     "no real clocks in core/: use io::Clock / Executor::NowNs"},
    {"randomness", R"((^|[^\w.>:])(rand|srand|random|drand48)\s*\(|\bstd::random_device\b)",
     "no OS randomness in core/: take randomness as an input"},
    {"randomness", R"(\bstd::(\w+_distribution|shuffle|mt19937(_64)?|default_random_engine)\b)",
     "std distributions differ between standard libraries: not in core/"},
    {"environment", R"(\b(secure_)?getenv\s*\()",
     "no environment variables in core/: pass options explicitly"},
    {"absl-clock", R"(\babsl::(Now|GetCurrentTimeNanos|SleepFor)\b)",
     "no real clocks in core/: use io::Clock / Executor::NowNs"},
    {"absl-random", R"(\babsl::(BitGen|InsecureBitGen|Uniform|Bernoulli)\b)",
     "absl random generators are salted per process: not in core/"},
    {"layering", R"(#\s*include\s*["<](sim|scenarios|harness|reports)/)",
     "core/ must not include sim/, scenarios/, harness/ or reports/", true},
    {"syscalls", R"(#\s*include\s*<(unistd\.h|fcntl\.h|sys/[\w/]+\.h|pthread\.h|thread|mutex|condition_variable|random|ctime|time\.h|sys/syscall\.h)>)",
     "no OS interfaces in core/ outside core/posix: use the io seam", true},
};

int LineOf(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

// Position just past the block that starts at the first '{' at or after
// `from`, or npos if unbalanced.
size_t EndOfBlock(std::string_view code, size_t from) {
  size_t open = code.find('{', from);
  if (open == std::string_view::npos) return std::string_view::npos;
  int depth = 0;
  for (size_t i = open; i < code.size(); ++i) {
    if (code[i] == '{') ++depth;
    if (code[i] == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool IsLinted(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  const bool cxx = ends_with(".h") || ends_with(".hh") || ends_with(".hpp") ||
                   ends_with(".cc") || ends_with(".cpp");
  return cxx && path.substr(0, 5) == "core/" && path.substr(0, 11) != "core/posix/";
}

std::string StripComments(std::string_view in, bool blank_literals) {
  std::string out(in);
  enum class State { kCode, kLineComment, kBlockComment, kString, kChar, kRawString };
  State state = State::kCode;
  std::string raw_terminator;  // )delim" for raw strings
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const char next = i + 1 < in.size() ? in[i + 1] : '\0';
    auto blank = [&](size_t at) {
      if (out[at] != '\n') out[at] = ' ';
    };
    switch (state) {
      case State::kCode:
        if (c == '/' && next == '/') {
          state = State::kLineComment;
          blank(i);
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          blank(i);
          blank(++i);
        } else if (c == 'R' && next == '"' &&
                   (i == 0 || !(std::isalnum(static_cast<unsigned char>(in[i - 1])) || in[i - 1] == '_'))) {
          const size_t paren = in.find('(', i + 2);
          if (paren == std::string_view::npos) break;
          raw_terminator = ")" + std::string(in.substr(i + 2, paren - i - 2)) + "\"";
          state = State::kRawString;
          i = paren;
        } else if (c == '"') {
          state = State::kString;
        } else if (c == '\'' && !(i > 0 && std::isxdigit(static_cast<unsigned char>(in[i - 1])) &&
                                  std::isxdigit(static_cast<unsigned char>(next)))) {
          state = State::kChar;  // (a digit separator like 1'000 is not a char literal)
        }
        break;
      case State::kLineComment:
        if (c == '\n') state = State::kCode; else blank(i);
        break;
      case State::kBlockComment:
        if (c == '*' && next == '/') {
          blank(i);
          blank(++i);
          state = State::kCode;
        } else {
          blank(i);
        }
        break;
      case State::kString:
      case State::kChar:
        if (!blank_literals) {
          if (c == '\\') {
            ++i;  // skip the escaped character
          } else if ((state == State::kString && c == '"') ||
                     (state == State::kChar && c == '\'')) {
            state = State::kCode;
          }
          break;
        }
        if (c == '\\') {
          blank(i);
          if (i + 1 < in.size()) blank(++i);
        } else if ((state == State::kString && c == '"') || (state == State::kChar && c == '\'')) {
          state = State::kCode;
        } else {
          blank(i);
        }
        break;
      case State::kRawString:
        if (in.substr(i, raw_terminator.size()) == raw_terminator) {
          i += raw_terminator.size() - 1;
          state = State::kCode;
        } else if (blank_literals) {
          blank(i);
        }
        break;
    }
  }
  return out;
}

std::vector<Violation> LintSource(std::string_view path, std::string_view contents) {
  std::vector<Violation> violations;
  const std::string code = StripComments(contents, /*blank_literals=*/true);
  const std::string code_with_literals = StripComments(contents, /*blank_literals=*/false);
  for (const Rule& rule : kRules) {
    const std::regex pattern(rule.pattern);
    const std::string& text = rule.keeps_literals ? code_with_literals : code;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
         it != std::sregex_iterator(); ++it) {
      // A pattern may start by matching the character before the name (even
      // the previous line's newline): report the line of the name itself.
      const std::string match = it->str();
      const size_t lead = std::min(match.find_first_not_of(" \t\r\n;{}(),=+-*/&|!<>"), match.size());
      const size_t offset = static_cast<size_t>(it->position()) + lead;
      violations.push_back(Violation{std::string(path), LineOf(text, offset), rule.name,
                                     rule.message});
    }
  }
  // `catch (...)` must rethrow: FiberKilled has to reach the fiber's entry.
  const std::regex catch_all(R"(\bcatch\s*\(\s*\.\.\.\s*\))");
  const std::regex rethrow(R"(\bthrow\s*;)");
  // A catch (...) after an explicit FiberKilled handler of the same try
  // cannot swallow FiberKilled (the fiber entry, which must end the fiber).
  const std::regex killed_handled(
      R"(\bcatch\s*\(\s*(const\s+)?(runtime::)?FiberKilled\s*&)");
  const std::regex try_keyword(R"(\btry\b)");
  for (auto it = std::sregex_iterator(code.begin(), code.end(), catch_all);
       it != std::sregex_iterator(); ++it) {
    const size_t start = static_cast<size_t>(it->position());
    size_t try_start = 0;
    for (auto t = std::sregex_iterator(code.begin(), code.begin() + static_cast<long>(start),
                                       try_keyword);
         t != std::sregex_iterator(); ++t) {
      try_start = static_cast<size_t>(t->position());
    }
    const std::string handlers = code.substr(try_start, start - try_start);
    if (std::regex_search(handlers, killed_handled)) continue;
    const size_t end = EndOfBlock(code, start);
    const std::string block =
        end == std::string::npos ? std::string() : code.substr(start, end - start);
    if (!std::regex_search(block, rethrow)) {
      violations.push_back(Violation{std::string(path), LineOf(code, start), "catch-all",
                                     "catch (...) must rethrow (throw;): it would swallow "
                                     "runtime::FiberKilled and break crash unwinding"});
    }
  }
  std::sort(violations.begin(), violations.end(),
            [](const Violation& a, const Violation& b) { return a.line < b.line; });
  return violations;
}

}  // namespace faultline::lint
