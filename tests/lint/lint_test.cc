// Tests for the determinism lint: each rule fires on what it forbids, and
// not on comments, strings or look-alike names. The fixture trees hold one
// file per known evasion (fixtures/evasions, each reported line marked
// `// expect: RULE`) and legitimate code per rule (fixtures/clean).
#include "tools/lint/determinism_lint.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tools/lint/tokenizer.h"

namespace faultline::lint {
namespace {

std::vector<std::string> RulesHit(const std::string& code) {
  std::vector<std::string> rules;
  for (const Violation& v : LintSource("core/x.cc", code)) rules.push_back(v.rule);
  return rules;
}

TEST(DeterminismLint, AppliesToCoreButNotPosix) {
  EXPECT_TRUE(IsLinted("core/wal/writer.cc"));
  EXPECT_TRUE(IsLinted("core/runtime/event.h"));
  EXPECT_FALSE(IsLinted("core/posix/event_loop.cc"));
  EXPECT_FALSE(IsLinted("sim/scheduler/scheduler.cc"));
  EXPECT_FALSE(IsLinted("core/wal/FORMAT.md"));
  EXPECT_FALSE(IsLinted("core/wal/CMakeLists.txt"));
  for (const char* path : {"core/a.inc", "core/a.ipp", "core/a.tcc", "core/a.cxx", "core/a.hxx",
                           "core/a.inl", "core/a"}) {
    EXPECT_TRUE(IsLinted(path)) << path;
  }
  EXPECT_EQ(Classify("core/wal/notes.weird"), FileKind::kUnknown);
  EXPECT_EQ(Classify("core/posix/notes.weird"), FileKind::kIgnored);
}

TEST(DeterminismLint, EachForbiddenThingIsReportedWithItsLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"std::thread t;", "thread"},
      {"std::this_thread::yield();", "thread"},
      {"std::mutex m;", "os-sync"},
      {"std::condition_variable cv;", "os-sync"},
      {"sleep(1);", "sleep"},
      {"usleep(10);", "sleep"},
      {"auto t = std::chrono::steady_clock::now();", "real-clock"},
      {"auto t = std::chrono::system_clock::now();", "real-clock"},
      {"long t = time(nullptr);", "real-clock"},
      {"int r = rand();", "randomness"},
      {"std::random_device rd;", "randomness"},
      {"std::uniform_int_distribution<int> d(0, 9);", "randomness"},
      {"const char* h = getenv(\"HOME\");", "environment"},
      {"auto now = absl::Now();", "absl-clock"},
      {"absl::BitGen gen;", "absl-random"},
      {"#include \"sim/scheduler/scheduler.h\"", "layering"},
      {"#include <unistd.h>", "syscalls"},
      {"#include <thread>", "syscalls"},
      {"::std::thread t;", "thread"},
      {"auto t = std::chrono::_V2::system_clock::now();", "real-clock"},
      {"std::normal_distribution<double> d;", "randomness"},
      {"FILE* f = ::fopen(path, \"r\");", "file-io"},
      {"int fd = ::open(path, 0);", "syscalls"},
      {"#include \"../../sim/disk/sim_disk.h\"", "layering"},
  };
  for (const auto& [code, rule] : cases) {
    const std::string file = "int a;\n" + code + "\n";
    auto violations = LintSource("core/x.cc", file);
    ASSERT_FALSE(violations.empty()) << code;
    EXPECT_EQ(violations[0].rule, rule) << code;
    EXPECT_EQ(violations[0].line, 2) << code;
  }
}

TEST(DeterminismLint, CommentsStringsAndLookAlikesAreFine) {
  EXPECT_TRUE(RulesHit("// never call std::chrono::steady_clock::now()\nint x;").empty());
  EXPECT_TRUE(RulesHit("/* std::thread\n rand() */ int y;").empty());
  EXPECT_TRUE(RulesHit("const char* s = \"sleep(1) getenv( std::mutex\";").empty());
  EXPECT_TRUE(RulesHit("auto s = R\"(std::thread rand())\";").empty());
  EXPECT_TRUE(RulesHit("executor.SleepFor(5); clock.NowNs(); x.time(); runtime::Mutex m;").empty());
  EXPECT_TRUE(RulesHit("int64_t budget = 1'000'000; char c = '\"'; int r = 2;").empty());
  EXPECT_TRUE(RulesHit("int operand(int); int z = operand(1); int w = my_rand(3);").empty());
}

TEST(DeterminismLint, CatchAllMustRethrow) {
  EXPECT_EQ(RulesHit("void f() { try { g(); } catch (...) { log(); } }"),
            std::vector<std::string>{"catch-all"});
  EXPECT_TRUE(RulesHit("void f() { try { g(); } catch (...) { cleanup(); throw; } }").empty());
  EXPECT_TRUE(RulesHit("void f() { try { g(); } catch (const Error& e) { log(); } }").empty());
  // After an explicit FiberKilled handler, catch (...) cannot see it...
  EXPECT_TRUE(RulesHit("try { g(); } catch (const FiberKilled&) { throw; } catch (...) { report(); }")
                  .empty());
  EXPECT_TRUE(
      RulesHit("try { g(); } catch (runtime::FiberKilled&) { throw; } catch (...) { report(); }")
          .empty());
  // ... but that handler must rethrow: it would swallow the kill itself.
  EXPECT_EQ(RulesHit("try { g(); } catch (const FiberKilled&) { } catch (...) { report(); }"),
            std::vector<std::string>{"fiber-killed"});
  // A FiberKilled handler of an earlier, finished try does not count.
  EXPECT_EQ(RulesHit("try { a(); } catch (const FiberKilled&) { throw; }\n"
                     "try { b(); } catch (...) { report(); }"),
            std::vector<std::string>{"catch-all"});
  // A nested block does not hide a missing rethrow.
  EXPECT_EQ(RulesHit("try { g(); } catch ( ... ) { if (x) { y(); } }"),
            std::vector<std::string>{"catch-all"});
}

TEST(DeterminismLint, OnlyTheFiberEntryMayEndAKilledFiber) {
  const std::string entry = "void Main() { try { body(); } catch (const FiberKilled&) { } }";
  EXPECT_TRUE(LintSource("core/runtime/internal/fiber_core.cc", entry).empty());
  ASSERT_EQ(LintSource("core/runtime/other.cc", entry).size(), 1u);
  EXPECT_EQ(LintSource("core/runtime/other.cc", entry)[0].rule, "fiber-killed");
}

TEST(Tokenizer, LiteralsCommentsSplicesAndDirectives) {
  const auto tokens = Tokenize(
      "a /* x */ u8R\"d()\" )d\" b // c\n"
      "'\\'' 1'000 \"s\\\"\"sv std::th\\\nread\n"
      "  #  include <x/y.h>\n%:define Z z\n");
  std::vector<std::string> texts;
  for (const Token& t : tokens) texts.push_back(t.text);
  const std::vector<std::string> expected = {"a",     "u8R\"d()\" )d\"", "b", "'\\''", "1'000",
                                             "\"s\\\"\"sv", "std", "::", "thread", "#",
                                             "include", "<x/y.h>", "#", "define", "Z", "z"};
  EXPECT_EQ(texts, expected);
  ASSERT_EQ(tokens.size(), expected.size());
  EXPECT_EQ(tokens[8].line, 2);   // "thread" starts on line 2, spliced from line 3
  EXPECT_EQ(tokens[9].line, 4);
  EXPECT_TRUE(tokens[11].directive);
  EXPECT_EQ(tokens[11].kind, TokenKind::kHeaderName);
  EXPECT_FALSE(tokens[8].directive);
}

std::string Repeat(std::string_view piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// Whatever bytes a file holds, the lint finishes and still reports what it
// can read. (Its time is linear in the size: with the scans it once made from
// every `for (`, `a <` or `catch (` of these inputs, each took minutes at ten
// times the size; no timing is asserted here.)
TEST(DeterminismLint, HostileInputIsHandled) {
  EXPECT_TRUE(LintSource("core/x.cc", "").empty());
  EXPECT_EQ(RulesHit(std::string("\xff\xfe\x80 bad bytes\nstd::thread t;\n")),
            std::vector<std::string>{"thread"});
  // GCC ignores a NUL character (with a warning): it must not split a name.
  EXPECT_EQ(RulesHit(std::string("std::\0thread t;", 15)), std::vector<std::string>{"thread"});
  EXPECT_EQ(RulesHit("int r = rand();\nauto s = R\"x(never closed"),
            std::vector<std::string>{"randomness"});
  EXPECT_EQ(RulesHit("int r = rand();\n/* never closed"), std::vector<std::string>{"randomness"});
  EXPECT_TRUE(RulesHit(Repeat("x", 1'000'000)).empty());
  constexpr size_t kPieces = 20'000;
  for (std::string_view piece : {"for ( ", "a < ", "using a = ", "typedef a ", "R\"x ",
                                 "try { ", "x : ", "( ", ") ", "{ ", "} "}) {
    EXPECT_TRUE(RulesHit(Repeat(piece, kPieces)).empty()) << piece;
  }
  // Handlers never closed cannot be read: reported, not skipped.
  for (std::string_view piece : {"catch ( ", "catch (...) { "}) {
    EXPECT_EQ(RulesHit(Repeat(piece, kPieces)), std::vector<std::string>{"catch-all"}) << piece;
  }
  EXPECT_EQ(RulesHit("try { " + Repeat("} catch (...) { } ", kPieces) + "}"),
            std::vector<std::string>{"catch-all"});
  EXPECT_EQ(RulesHit(Repeat("try { } catch (const FiberKilled&) { throw; } ", kPieces) +
                     "try { } catch (...) { }"),
            std::vector<std::string>{"catch-all"});
  EXPECT_EQ(RulesHit("std::unordered_set<int> s;\nint n = 0;\n" +
                     Repeat("for (int x : s) { ", kPieces) + Repeat("} ", kPieces)),
            std::vector<std::string>{"hash-iteration"});
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// "file:line: rule" for every `// expect: RULE[, RULE]` (or `/* expect: RULE */`
// before a line splice) in the tree's files.
std::set<std::string> ExpectedFindings(const std::filesystem::path& root) {
  std::set<std::string> expected;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "core")) {
    if (!entry.is_regular_file()) continue;
    const std::string file = std::filesystem::relative(entry.path(), root).generic_string();
    std::istringstream lines(ReadFile(entry.path()));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      const size_t marker = line.find("expect: ");
      if (marker == std::string::npos) continue;
      std::istringstream rules(line.substr(marker + 8, line.find(" */") - marker - 8));
      std::string rule;
      while (std::getline(rules, rule, ',')) {
        rule.erase(0, rule.find_first_not_of(' '));
        expected.insert(file + ":" + std::to_string(number) + ": " + rule);
      }
    }
  }
  return expected;
}

std::set<std::string> ActualFindings(const std::filesystem::path& root) {
  const TreeResult result = LintTree(root);
  EXPECT_EQ(result.error, "");
  std::set<std::string> actual;
  for (const Violation& v : result.violations) {
    actual.insert(v.file + ":" + std::to_string(v.line) + ": " + v.rule);
  }
  return actual;
}

const std::filesystem::path kFixtures = FAULTLINE_LINT_FIXTURES;

TEST(DeterminismLintFixtures, EveryEvasionIsReportedWhereMarked) {
  const std::set<std::string> expected = ExpectedFindings(kFixtures / "evasions");
  const std::set<std::string> actual = ActualFindings(kFixtures / "evasions");
  ASSERT_GE(expected.size(), 75u);  // the fixtures were read
  for (const std::string& finding : expected) {
    EXPECT_TRUE(actual.count(finding) > 0) << "not reported: " << finding;
  }
  for (const std::string& finding : actual) {
    EXPECT_TRUE(expected.count(finding) > 0) << "reported but not marked: " << finding;
  }
}

TEST(DeterminismLintFixtures, LegitimateCodeIsNotReported) {
  const TreeResult result = LintTree(kFixtures / "clean");
  EXPECT_EQ(result.error, "");
  EXPECT_GE(result.files_checked, 6u);
  for (const Violation& v : result.violations) {
    ADD_FAILURE() << v.file << ":" << v.line << ": " << v.rule << ": " << v.message;
  }
}

}  // namespace
}  // namespace faultline::lint
