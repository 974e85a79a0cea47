// Tests for harness/sweep and harness/worker_protocol: worker processes,
// crash isolation, result order, and the result encoding.
#include "harness/sweep.h"

#include <csignal>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "harness/determinism_check.h"
#include "harness/gtest_seeds.h"
#include "harness/order_check.h"
#include "harness/worker_protocol.h"
#include "scenarios/registry.h"
#include "tests/harness/selftest_scenarios.h"

namespace faultline::harness {
namespace {

using ::testing::HasSubstr;

// A scenario that passes, fails an invariant, or kills its process,
// depending on the seed.
scenarios::Scenario Treacherous() {
  return scenarios::Scenario{
      .name = "treacherous",
      .description = "seed % 5 == 1 aborts, seed % 5 == 3 violates",
      .run = [](const scenarios::ScenarioOptions& options) {
        if (options.seed % 5 == 1) std::abort();
        scenarios::ScenarioResult result;
        result.run.trace_hash = options.seed * 31;
        if (options.seed % 5 == 3) result.violation = "seed is 3 mod 5";
        result.faults_injected["fsync-eio"] = options.seed % 2;
        return result;
      }};
}

TEST(Sweep, ACrashingSeedFailsAloneAndTheSweepGoesOn) {
  const scenarios::Scenario scenario = Treacherous();
  for (int jobs : {1, 3}) {
    std::vector<uint64_t> reported;
    SweepOutcome outcome = RunSweep(
        {.scenarios = {&scenario}, .first_seed = 0, .seed_count = 20, .jobs = jobs,
         .keep_passed = true},
        [&](const reports::SeedResult& r) { reported.push_back(r.seed); });
    EXPECT_EQ(outcome.seeds_run, 20u) << "jobs=" << jobs;
    EXPECT_EQ(outcome.seeds_failed, 8u);
    ASSERT_EQ(outcome.results.size(), 20u);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const reports::SeedResult& result = outcome.results[seed];  // sorted by seed
      EXPECT_EQ(result.seed, seed);
      if (seed % 5 == 1) {
        EXPECT_FALSE(result.passed);
        EXPECT_EQ(result.outcome, "worker crashed");
        EXPECT_THAT(result.detail, HasSubstr("signal 6"));
      } else if (seed % 5 == 3) {
        EXPECT_EQ(result.outcome, "violation");
        EXPECT_EQ(result.detail, "seed is 3 mod 5");
      } else {
        EXPECT_TRUE(result.passed) << seed;
        EXPECT_EQ(result.trace_hash, seed * 31);
      }
    }
    EXPECT_EQ(reported.size(), 8u);
    EXPECT_EQ(outcome.tallies[0].faults_injected["fsync-eio"], 8u);  // 10 odd seeds, 2 of them abort
  }
}

TEST(Sweep, OnlyFailuresAreKeptUnlessAsked) {
  const scenarios::Scenario scenario = Treacherous();
  SweepOutcome outcome = RunSweep(
      {.scenarios = {&scenario}, .first_seed = 100, .seed_count = 10, .jobs = 2},
      [](const reports::SeedResult&) {});
  EXPECT_EQ(outcome.seeds_run, 10u);
  EXPECT_EQ(outcome.results.size(), 4u);
  for (const auto& result : outcome.results) EXPECT_FALSE(result.passed);
}

TEST(Sweep, TheRealScenariosPassAFixedSeedSweep) {
  for (const scenarios::Scenario& scenario : scenarios::AllScenarios()) {
    ExpectSeedsPass(scenario, 100);
  }
}

// All results of a sweep over `name`, passes included.
SweepOutcome SweepSelftest(const char* name, uint64_t seeds, int jobs, int64_t seed_timeout_ns = 60e9,
                           int64_t time_budget_ns = 0) {
  return RunSweep({.scenarios = {&selftest::Selftest(name)}, .first_seed = 0, .seed_count = seeds,
                   .jobs = jobs, .time_budget_ns = time_budget_ns,
                   .seed_timeout_ns = seed_timeout_ns, .keep_passed = true},
                  [](const reports::SeedResult&) {});
}

TEST(Sweep, AGarbledProtocolLineFailsThatSeedNotTheSweep) {
  // Seeds 1 and 4 write garbage into their worker's pipe to the parent.
  SweepOutcome outcome = SweepSelftest("selftest_garbles_protocol", 6, 2);
  EXPECT_EQ(outcome.seeds_run, 6u);
  EXPECT_EQ(outcome.seeds_failed, 2u);
  ASSERT_EQ(outcome.results.size(), 6u);
  for (const reports::SeedResult& result : outcome.results) {
    if (result.seed % 3 == 1) {
      EXPECT_EQ(result.outcome, "worker protocol error") << result.seed;
      EXPECT_THAT(result.detail, HasSubstr("this is not a protocol line"));
    } else {
      EXPECT_TRUE(result.passed) << result.seed << ": " << result.detail;
    }
  }
}

TEST(Sweep, WorkersHoldOnlyTheirOwnPipeAndNothingSurvivesAnExec) {
  selftest::CloseInheritedDescriptors();  // what the test runner leaked to us
  SweepOutcome outcome = SweepSelftest("selftest_fd_hygiene", 6, 3);
  EXPECT_EQ(outcome.seeds_run, 6u);
  for (const reports::SeedResult& result : outcome.results) {
    EXPECT_TRUE(result.passed) << result.seed << ": " << result.detail;
  }
}

TEST(Sweep, AHungSeedTimesOutAndTheSweepGoesOn) {
  // Seeds 2 and 6 hang; the limit is far below the hang and far above a seed.
  SweepOutcome outcome = SweepSelftest("selftest_hang", 8, 2, /*seed_timeout_ns=*/1e9);
  EXPECT_EQ(outcome.seeds_run, 8u);
  EXPECT_EQ(outcome.seeds_failed, 2u);
  EXPECT_EQ(outcome.seeds_not_run, 0u);
  ASSERT_EQ(outcome.results.size(), 8u);
  for (const reports::SeedResult& result : outcome.results) {
    if (result.seed % 4 == 2) {
      EXPECT_EQ(result.outcome, "timeout");
      EXPECT_THAT(result.detail, HasSubstr("1 s wall-clock limit"));
      EXPECT_THAT(result.ReplayCommand(), HasSubstr("replay selftest_hang --seed 0x000000000000000"));
    } else {
      EXPECT_TRUE(result.passed) << result.seed;
    }
  }
}

TEST(Sweep, ASeedThatHangsPastTheTimeBudgetFailsAsATimeoutNeverNotRun) {
  // One worker: seeds 0 and 1 pass at once, seed 2 hangs. The budget (1 s)
  // is far below the seed timeout (60 s): the hang must still fail, never
  // be counted as not run (which exits 0).
  SweepOutcome outcome = SweepSelftest("selftest_hang", 8, 1, /*seed_timeout_ns=*/60e9,
                                       /*time_budget_ns=*/1e9);
  EXPECT_TRUE(outcome.time_budget_reached);
  EXPECT_EQ(outcome.seeds_run, 3u);
  EXPECT_EQ(outcome.seeds_failed, 1u);
  EXPECT_EQ(outcome.seeds_not_run, 5u);
  EXPECT_TRUE(outcome.interrupted.empty());
  bool seen = false;
  for (const reports::SeedResult& result : outcome.results) {
    if (result.seed != 2) continue;
    seen = true;
    EXPECT_EQ(result.outcome, "timeout");
    EXPECT_FALSE(result.passed);
    EXPECT_THAT(result.detail, HasSubstr("--time-budget"));
  }
  EXPECT_TRUE(seen);
}

// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(GtestSeeds, ZeroSeedsOrARangePastTheLastSeedIsRefusedNotAVacuousPass) {
  const scenarios::Scenario& scenario = selftest::Selftest("selftest_hostile_detail");
  {
    ScopedEnv seeds("FAULTLINE_SEEDS", "0");
    EXPECT_NONFATAL_FAILURE(ExpectSeedsPass(scenario, 5), "FAULTLINE_SEEDS");
  }
  {
    ScopedEnv seeds("FAULTLINE_SEEDS", "3");
    ScopedEnv first("FAULTLINE_FIRST_SEED", "0xfffffffffffffffe");
    EXPECT_NONFATAL_FAILURE(ExpectSeedsPass(scenario, 5), "past 2^64-1");
  }
}

// In a child process: 7 if ExpectSeedsPass reported a failure and returned,
// anything else if the seeds ended the process (exit(0) would pass a ctest).
void ExpectSeedsPassThenExit(const scenarios::Scenario& scenario, uint64_t seeds) {
  ExpectSeedsPass(scenario, seeds);
  std::_Exit(::testing::Test::HasFailure() ? 7 : 0);
}

TEST(GtestSeedsDeathTest, ASeedThatEndsTheProcessFailsTheTestInsteadOfEndingIt) {
  // selftest_exits_zero's seed 1 calls exit(0), seed 2 _exit(0); Treacherous's
  // seed 1 aborts.
  EXPECT_EXIT(ExpectSeedsPassThenExit(selftest::Selftest("selftest_exits_zero"), 4),
              ::testing::ExitedWithCode(7), "");
  EXPECT_EXIT(ExpectSeedsPassThenExit(Treacherous(), 2), ::testing::ExitedWithCode(7), "");
  // Each such seed is a failure with its replay command.
  EXPECT_NONFATAL_FAILURE(ExpectSeedsPass(Treacherous(), 2),
                          "treacherous seed 0x0000000000000001: worker crashed: the worker "
                          "process died of signal 6");
}

TEST(Sweep, DescendingRunsTheSameSeedsLastFirst) {
  // selftest_leaky_static's hash tells which seed ran just before.
  const scenarios::Scenario& leaky = selftest::Selftest("selftest_leaky_static");
  SweepOutcome down = RunSweep({.scenarios = {&leaky}, .first_seed = 10, .seed_count = 4,
                                .jobs = 1, .keep_passed = true, .descending = true},
                               [](const reports::SeedResult&) {});
  ASSERT_EQ(down.results.size(), 4u);
  const uint64_t base = 0x9E3779B97F4A7C15ull;
  EXPECT_EQ(down.results[3].trace_hash, 13 * base + 1);         // ran first
  EXPECT_EQ(down.results[0].trace_hash, (10 * base + 1) ^ 11);  // ran last, after 11
}

TEST(OrderCheck, CatchesStateLeakingFromSeedToSeed) {
  const auto leaks = CheckInProcessOrders(selftest::Selftest("selftest_leaky_static"), 0, 5, 60e9);
  EXPECT_EQ(leaks.size(), 5u);  // every seed has another predecessor in the other order
  EXPECT_TRUE(CheckInProcessOrders(selftest::Selftest("selftest_hostile_detail"), 0, 5, 60e9).empty());
  EXPECT_TRUE(CheckInProcessOrders(*scenarios::FindScenario("demo"), 0, 20, 60e9).empty());
}

TEST(WorkerProtocol, RoundTripsAResult) {
  reports::SeedResult result;
  result.scenario = "wal\tcrash%";
  result.seed = UINT64_MAX;
  result.passed = false;
  result.outcome = "violation";
  result.detail = "record 7 lost\nafter crash; a=b";
  result.trace_hash = 0x123456789ABCDEF0ull;
  result.steps = 42;
  result.virtual_time_ns = -5;
  result.wall_time_ns = 99;
  result.faults_injected = {{"torn;write", 3}, {"eio=x", 1}};
  result.faults_enabled = {"torn;write", "no%space"};
  std::optional<reports::SeedResult> decoded = DecodeResult(EncodeResult(result));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->scenario, result.scenario);
  EXPECT_EQ(decoded->seed, result.seed);
  EXPECT_EQ(decoded->detail, result.detail);
  EXPECT_EQ(decoded->trace_hash, result.trace_hash);
  EXPECT_EQ(decoded->virtual_time_ns, -5);
  EXPECT_EQ(decoded->faults_injected, result.faults_injected);
  EXPECT_EQ(decoded->faults_enabled, result.faults_enabled);
}

RC_GTEST_PROP(WorkerProtocol, EscapingRoundTripsAnyBytes, (std::string text)) {
  const std::string escaped = EscapeField(text);
  RC_ASSERT(escaped.find('\t') == std::string::npos);
  RC_ASSERT(escaped.find('\n') == std::string::npos);
  RC_ASSERT(UnescapeField(escaped) == std::optional<std::string>(text));
}

TEST(WorkerProtocol, GarbageIsRejectedNotCrashedOn) {
  for (const char* garbage : {"", "x", "a\tb", "%", "%4", "%zz",
                              "s\t1\t2\tok\t\t1\t1\t1\t1\t", "s\tx\t1\tok\t\t1\t1\t1\t1\t",
                              "s\t1\t1\tok\t\t1\t1\t1\t1\tnoequals"}) {
    EXPECT_EQ(DecodeResult(garbage), std::nullopt) << garbage;
  }
  EXPECT_EQ(UnescapeField("%4"), std::nullopt);
  EXPECT_EQ(UnescapeField("%g0"), std::nullopt);
}

TEST(DeterminismCheck, FirstDifferingLineNamesTheEvent) {
  EXPECT_EQ(FirstDifferingLine("a\nb\nc\n", "a\nb\nc\n"), std::nullopt);
  auto divergence = FirstDifferingLine("a\nb\nc\n", "a\nX\nc\n");
  ASSERT_TRUE(divergence.has_value());
  EXPECT_EQ(divergence->line_number, 2u);
  EXPECT_EQ(divergence->first_run, "b");
  EXPECT_EQ(divergence->second_run, "X");
  auto shorter = FirstDifferingLine("a\nb", "a");
  ASSERT_TRUE(shorter.has_value());
  EXPECT_EQ(shorter->second_run, "<end of output>");
}

}  // namespace
}  // namespace faultline::harness
