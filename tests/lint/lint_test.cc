// Tests for the determinism lint: each rule fires on what it forbids, and
// not on comments, strings or look-alike names.
#include "tools/lint/determinism_lint.h"

#include <string>

#include <gtest/gtest.h>

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
  // After an explicit FiberKilled handler, catch (...) cannot swallow it...
  EXPECT_TRUE(RulesHit("try { g(); } catch (const FiberKilled&) { } catch (...) { report(); }")
                  .empty());
  EXPECT_TRUE(
      RulesHit("try { g(); } catch (runtime::FiberKilled&) { } catch (...) { report(); }").empty());
  // ... but a FiberKilled handler of an earlier, finished try does not count.
  EXPECT_EQ(RulesHit("try { a(); } catch (const FiberKilled&) { }\n"
                     "try { b(); } catch (...) { report(); }"),
            std::vector<std::string>{"catch-all"});
  // A nested block does not hide a missing rethrow.
  EXPECT_EQ(RulesHit("try { g(); } catch ( ... ) { if (x) { y(); } }"),
            std::vector<std::string>{"catch-all"});
}

}  // namespace
}  // namespace faultline::lint
