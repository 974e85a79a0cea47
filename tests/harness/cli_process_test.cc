// End-to-end tests of the `faultline` binary as a user runs it: the same
// seed gives the same trace hash in two separate processes, different seeds
// give different runs, and bad usage exits 2 with a message.
#include <stdlib.h>
#include <cstdlib>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <cstdio>
#include <regex>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "scenarios/demo/demo.h"
#include "scenarios/registry.h"
#include "tests/harness/selftest_scenarios.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `binary arguments` through the shell, killed after `limit_s` seconds
// (exit code 137): a harness that hangs fails its test instead of hanging it.
ProcessResult RunBinary(const std::string& binary, const std::string& arguments,
                        int limit_s = 120) {
  const std::string command =
      absl::StrFormat("timeout -s KILL %d %s %s 2>&1", limit_s, binary, arguments);
  ProcessResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t read_bytes;
  while ((read_bytes = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), read_bytes);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ProcessResult RunFaultline(const std::string& arguments, int limit_s = 120) {
  return RunBinary(FAULTLINE_BINARY, arguments, limit_s);
}

// The same command line with the hostile selftest_* scenarios registered.
ProcessResult RunSelftest(const std::string& arguments, int limit_s = 120) {
  return RunBinary(FAULTLINE_SELFTEST_BINARY, arguments, limit_s);
}

// Well under selftest::kHangSeconds: a run that waits out a bounded hang of
// a selftest scenario is killed, and fails its test, instead of passing late.
constexpr int kShortLimitS = 20;

// A fresh directory under the system's temporary directory.
std::string MakeTempDir() {
  std::string path = (std::filesystem::temp_directory_path() / "faultline-cli-XXXXXX").string();
  return mkdtemp(path.data()) != nullptr ? path : "";
}

std::string TraceHashIn(const std::string& output) {
  std::smatch match;
  static const std::regex hash_pattern("trace hash (0x[0-9a-f]{16})");
  return std::regex_search(output, match, hash_pattern) ? match[1].str() : "";
}

TEST(FaultlineCli, SameSeedSameTraceHashInSeparateProcesses) {
  for (const char* seed : {"1", "42", "0xdeadbeef"}) {
    ProcessResult first = RunFaultline(absl::StrFormat("run demo --seed %s", seed));
    ProcessResult second = RunFaultline(absl::StrFormat("run demo --seed %s", seed));
    ASSERT_EQ(first.exit_code, 0) << first.output;
    ASSERT_EQ(second.exit_code, 0) << second.output;
    const std::string hash = TraceHashIn(first.output);
    ASSERT_FALSE(hash.empty()) << first.output;
    EXPECT_EQ(hash, TraceHashIn(second.output));
    // ... and the same as in this process.
    const uint64_t seed_value = std::stoull(seed, nullptr, 0);
    auto in_process = faultline::scenarios::RunDemo({.seed = seed_value});
    EXPECT_EQ(hash, absl::StrFormat("0x%016x", in_process.run.trace_hash));
  }
}

TEST(FaultlineCli, DifferentSeedsGiveDifferentRuns) {
  std::set<std::string> hashes;
  for (int seed = 0; seed < 8; ++seed) {
    hashes.insert(TraceHashIn(RunFaultline(absl::StrFormat("run demo --seed %d", seed)).output));
  }
  EXPECT_EQ(hashes.size(), 8u);
}

TEST(FaultlineCli, ASweepPrintsASummaryTable) {
  ProcessResult sweep = RunFaultline("run all --seeds 20 --first-seed 100");
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("seeds/s"));
  EXPECT_THAT(sweep.output, HasSubstr("virtual s/wall s"));
  const size_t scenario_count = faultline::scenarios::AllScenarios().size();
  EXPECT_THAT(sweep.output,
              HasSubstr(absl::StrFormat("faultline: %d seeds, 0 failed", 20 * scenario_count)));
  // Sweeps are quiet: no log lines, only the table and the summary.
  EXPECT_THAT(sweep.output, ::testing::Not(HasSubstr("] warning:")));
}

TEST(FaultlineCli, SweepReportsAreWritten) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ProcessResult sweep = RunFaultline(absl::StrFormat(
      "run demo --seeds 5 --jobs 2 --json %s/out.jsonl --junit %s/out.xml", dir, dir));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string json = slurp(dir + "/out.jsonl");
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 5);
  EXPECT_THAT(json, HasSubstr(R"("scenario":"demo","seed":"0x0000000000000004","passed":true)"));
  EXPECT_THAT(slurp(dir + "/out.xml"), HasSubstr(R"(<testsuite name="demo" tests="5" failures="0")"));
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, ReplayWithTraceStampsEventsAndLogsInSimulatedTime) {
  ProcessResult replay =
      RunFaultline("replay demo --seed 3 --trace --trace-kind all --log-level debug");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(\[ +0\.[0-9]{9}s\] n[1-3] +step)"));
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(\[ +0\.[0-9]{9}s sim\] debug: nemesis)"));
}

TEST(FaultlineCli, ReplayTraceHidesSchedulerEventsUnlessAsked) {
  ProcessResult replay = RunFaultline("replay wal_crash --seed 0x2a --trace");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, ::testing::Not(::testing::ContainsRegex(R"(s\] \S+ +(step|timer) )")));
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(s\] n1 +io +off=[0-9]+ len=[0-9]+  write wal/)"));
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(s\] n1 +check +durable=[0-9]+ issued=)"));
}

TEST(FaultlineCli, ReplayTraceFiltersByKindAndNode) {
  ProcessResult crash = RunFaultline("replay wal_crash --seed 0x2a --trace-kind crash,fault");
  EXPECT_EQ(crash.exit_code, 0) << crash.output;
  EXPECT_THAT(crash.output, ::testing::ContainsRegex(R"(s\] n1 +crash +choice_point=)"));
  EXPECT_THAT(crash.output, ::testing::ContainsRegex(R"(s\] n1 +fault +kind=)"));
  EXPECT_THAT(crash.output, ::testing::Not(::testing::ContainsRegex(R"(s\] \S+ +(io|check|step) )")));

  ProcessResult sim = RunFaultline("replay wal_crash --seed 0x2a --trace-kind sched --trace-node sim");
  EXPECT_EQ(sim.exit_code, 0) << sim.output;
  EXPECT_THAT(sim.output, ::testing::ContainsRegex(R"(s\] sim +timer +now_ns=)"));
  EXPECT_THAT(sim.output, ::testing::Not(::testing::ContainsRegex(R"(s\] n1 )")));

  ProcessResult window = RunFaultline(
      "replay wal_crash --seed 0x2a --trace-from-ns 1200000 --trace-until-ns 1300000");
  EXPECT_EQ(window.exit_code, 0) << window.output;
  EXPECT_THAT(window.output, ::testing::ContainsRegex(R"(\[ +0\.0012[0-9]{5}s\] n1 +crash )"));
  EXPECT_THAT(window.output, ::testing::Not(::testing::ContainsRegex(R"(\[ +0\.00(0|1[01])[0-9]{5,6}s\])")));
  EXPECT_THAT(window.output, ::testing::Not(::testing::ContainsRegex(R"(\[ +0\.00(1[3-9]|[2-9])[0-9]+s\])")));

  // The simulated network's sends and deliveries, and its faults.
  ProcessResult net = RunFaultline("replay net_echo --seed 1 --trace-kind net,fault");
  EXPECT_EQ(net.exit_code, 0) << net.output;
  EXPECT_THAT(net.output, ::testing::ContainsRegex(R"(s\] n[1-3] +net +msg=[0-9]+ arrive_ns=[0-9]+  sent n)"));
  EXPECT_THAT(net.output, ::testing::ContainsRegex(R"(s\] n[1-3] +net +msg=[0-9]+ len=[0-9]+  delivered n)"));
  EXPECT_THAT(net.output, ::testing::ContainsRegex(R"(s\] \S+ +fault +net_fault=)"));
  EXPECT_THAT(net.output, ::testing::Not(::testing::ContainsRegex(R"(s\] \S+ +(io|check|step|crash) )")));

  ProcessResult bad = RunFaultline("replay wal_crash --seed 0x2a --trace-kind bogus");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("unknown trace kind 'bogus'"));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FaultlineCli, OnePathForBothReportsIsRefused) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  std::filesystem::create_symlink(dir + "/out", dir + "/alias");
  for (const std::string& junit : {dir + "/out", dir + "/./out", dir + "/alias"}) {
    ProcessResult sweep = RunFaultline(absl::StrFormat("run demo --seeds 3 --json %s/out --junit %s", dir, junit));
    EXPECT_EQ(sweep.exit_code, 2) << junit << ": " << sweep.output;
    EXPECT_THAT(sweep.output, HasSubstr("--json and --junit name the same file")) << junit;
    EXPECT_EQ(std::count(sweep.output.begin(), sweep.output.end(), '\n'), 1) << sweep.output;
  }
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, WorkersInheritNeitherReportFilesNorOtherWorkersPipes) {
  faultline::harness::selftest::CloseInheritedDescriptors();  // what our runner leaked to us
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ProcessResult sweep = RunSelftest(absl::StrFormat(
      "run selftest_fd_hygiene --seeds 6 --jobs 3 --json %s/out.jsonl --junit %s/out.xml", dir,
      dir));
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output;
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, AReportWriteFailureHasItsOwnExitCodeAndNeverHidesAFailure) {
  // /dev/full takes the open and fails the writes (ENOSPC).
  ProcessResult passing = RunFaultline("run demo --seeds 3 --json /dev/full");
  EXPECT_EQ(passing.exit_code, 4) << passing.output;
  EXPECT_THAT(passing.output, HasSubstr("faultline: writing the report '/dev/full' failed"));
  ProcessResult failing = RunSelftest("run selftest_hostile_detail --seeds 2 --junit /dev/full");
  EXPECT_EQ(failing.exit_code, 1) << failing.output;  // the failed seeds, not the report
  EXPECT_THAT(failing.output, HasSubstr("faultline: writing the report '/dev/full' failed"));
}

TEST(FaultlineCli, ConsoleOutputEscapesControlBytesInFailureDetails) {
  for (const char* arguments : {"run selftest_hostile_detail --seed 0",
                                "run selftest_hostile_detail --seeds 2 --jobs 2"}) {
    ProcessResult run = RunSelftest(arguments);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    for (char raw : {'\x1b', '\r', '\x01', '\xff'}) {
      EXPECT_EQ(run.output.find(raw), std::string::npos) << arguments << ": byte " << int(raw);
    }
    // No forged line: the detail's newline is escaped, its valid UTF-8 kept.
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("\nFAIL forged")));
    EXPECT_THAT(run.output, HasSubstr("d\xC3\xA9tail\\t\\x1b[31mred\\r\\nFAIL forged seed=0x0\\x01 bad\\xff byte"));
  }
}

TEST(FaultlineCli, ReportsKeepValidUtf8FromFailureDetails) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ProcessResult sweep = RunSelftest(absl::StrFormat(
      "run selftest_hostile_detail --seeds 2 --json %s/out.jsonl --junit %s/out.xml", dir, dir));
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(Slurp(dir + "/out.jsonl"),
              HasSubstr("\"detail\":\"d\xC3\xA9tail\\t\\u001b[31mred\\r\\nFAIL"));
  EXPECT_THAT(Slurp(dir + "/out.xml"), HasSubstr("message=\"d\xC3\xA9tail&#9;?[31mred&#13;&#10;FAIL"));
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, BadUsageExitsTwoWithAMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {"run nosuch --seed 1", "unknown scenario 'nosuch'"},
      {"run demo --seed 12x", "malformed seed '12x'"},
      {"run demo --frob", "unknown option '--frob'"},
      {"", "missing command"},
      {"replay demo", "needs --seed"},
      {"run demo --seeds 3 --junit /nonexistent-dir/out.xml", "cannot write '/nonexistent-dir/out.xml'"},
      {"run demo --seeds 3 --json /nonexistent-dir/out.jsonl", "cannot write"},
      {"check-determinism nosuch --seeds 2", "unknown scenario 'nosuch'"},
  };
  for (const auto& [arguments, message] : cases) {
    ProcessResult result = RunFaultline(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments;
    EXPECT_THAT(result.output, HasSubstr(message)) << arguments;
  }
}

TEST(FaultlineCli, TheShippedBinaryHasNoSelftestScenarios) {
  EXPECT_THAT(RunFaultline("list").output, ::testing::Not(HasSubstr("selftest")));
  EXPECT_THAT(RunSelftest("list").output, HasSubstr("selftest_hang"));
}

TEST(FaultlineCli, AFaultKindEnabledButNeverFiredIsFlagged) {
  ProcessResult sweep = RunSelftest("run selftest_unfired_kind --seeds 4 --jobs 2");
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("selftest_unfired_kind    fires=2/4 never_fires=0/4"));
  EXPECT_THAT(sweep.output, HasSubstr("warning: selftest_unfired_kind: fault kind never_fires was "
                                      "enabled in 4 seeds and never fired"));
  EXPECT_THAT(sweep.output, Not(HasSubstr("fault kind fires was")));
  ProcessResult required =
      RunSelftest("run selftest_unfired_kind --seeds 4 --jobs 2 --require-coverage");
  EXPECT_EQ(required.exit_code, 5) << required.output;
}

TEST(FaultlineCli, WorkersFlushWhatAScenarioPrints) {
  // stdout is a pipe here, so stdio buffers it fully: a worker that ends
  // without flushing loses it.
  ProcessResult sweep = RunSelftest("run selftest_prints --seeds 4 --jobs 2");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  for (int seed = 0; seed < 4; ++seed) {
    EXPECT_THAT(sweep.output, HasSubstr(absl::StrFormat("hello from seed %d\n", seed)));
  }
}

TEST(FaultlineCli, AHungSeedFailsAsATimeoutWithItsReplayCommand) {
  // selftest_hang's seed 2 hangs far longer than the 1 s limit.
  ProcessResult sweep = RunSelftest("run selftest_hang --seeds 4 --jobs 2 --seed-timeout-s 1");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(sweep.output,
              HasSubstr("FAIL selftest_hang seed=0x0000000000000002\n  violated: timeout: "));
  EXPECT_THAT(sweep.output,
              HasSubstr("replay: faultline replay selftest_hang --seed 0x0000000000000002"));
  EXPECT_THAT(sweep.output, HasSubstr("faultline: 4 seeds, 1 failed\n"));
  ProcessResult single = RunSelftest("run selftest_hang --seed 2 --seed-timeout-s 1");
  EXPECT_EQ(single.exit_code, 1) << single.output;
  EXPECT_THAT(single.output,
              HasSubstr("FAIL selftest_hang seed=0x0000000000000002\n  violated: timeout: "));
}

TEST(FaultlineCli, ATimeBudgetNeverCountsAnUnfinishedSeedAsPassed) {
  // One worker: seeds 0 and 1 pass, seed 2 is still running when the
  // budget ends, seeds 3..7 never start.
  ProcessResult sweep = RunSelftest("run selftest_hang --seeds 8 --time-budget 1");
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("NOT RUN selftest_hang seed=0x0000000000000002: in progress "
                                      "when the time budget ran out"));
  EXPECT_THAT(sweep.output, HasSubstr("faultline: 2 seeds, 0 failed, 6 not run (time budget reached)"));
}

TEST(FaultlineCli, CheckDeterminismKillsAHungReplay) {
  ProcessResult check = RunSelftest("check-determinism selftest_hang --seeds 3 --seed-timeout-s 1");
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_THAT(check.output, HasSubstr("TIMEOUT selftest_hang seed=0x0000000000000002: "));
  EXPECT_THAT(check.output, HasSubstr("3 seeds run twice, 0 mismatches, 1 timeouts"));
}

TEST(FaultlineCli, CheckDeterminismCatchesStateLeakingFromSeedToSeed) {
  // Each seed alone replays identically; run after another seed in one
  // process (as in a sweep worker), a function-local static changes its hash.
  ProcessResult check = RunSelftest("check-determinism selftest_leaky_static --seeds 6");
  EXPECT_EQ(check.exit_code, 3) << check.output;
  EXPECT_THAT(check.output, HasSubstr("NON-DETERMINISTIC selftest_leaky_static seed="));
  EXPECT_THAT(check.output, HasSubstr("depends on the seeds run before it in the same process"));
  ProcessResult clean = RunFaultline("check-determinism demo --seeds 6");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_THAT(clean.output, HasSubstr("6 seeds run in one process in two orders, 0 mismatches"));
}

TEST(FaultlineCli, ASeedThatExitsZeroMidSeedFails) {
  // Seed 1 calls exit(0), seed 2 _exit(0): neither finished its run.
  for (const char* seed : {"1", "2"}) {
    ProcessResult single = RunSelftest(absl::StrFormat("run selftest_exits_zero --seed %s", seed));
    EXPECT_EQ(single.exit_code, 1) << single.output;
    EXPECT_THAT(single.output, HasSubstr(absl::StrFormat(
                                   "FAIL selftest_exits_zero seed=0x000000000000000%s\n  violated: "
                                   "worker crashed: the worker process exited with status 0",
                                   seed)));
    EXPECT_THAT(single.output, HasSubstr("faultline: 1 seeds, 1 failed\n"));
  }
  ProcessResult sweep = RunSelftest("run selftest_exits_zero --seeds 4 --jobs 2");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("faultline: 4 seeds, 2 failed\n"));
  ProcessResult passing = RunSelftest("run selftest_exits_zero --seed 3");
  EXPECT_EQ(passing.exit_code, 0) << passing.output;
  EXPECT_THAT(passing.output, HasSubstr("selftest_exits_zero seed=0x0000000000000003 passed: "));
}

TEST(FaultlineCli, ASeedHangingWithSignalsBlockedStillTimesOut) {
  // Seed 2 blocks every signal, ignores SIGALRM and cancels alarms.
  for (const char* arguments : {"--seed 2", "--seeds 3 --jobs 2"}) {
    ProcessResult run = RunSelftest(
        absl::StrFormat("run selftest_hangs_signals_blocked %s --seed-timeout-s 1", arguments),
        kShortLimitS);
    EXPECT_EQ(run.exit_code, 1) << arguments << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr("FAIL selftest_hangs_signals_blocked seed=0x0000000000000002"
                                      "\n  violated: timeout: "));
  }
}

TEST(FaultlineCli, ASeedThatClosesItsPipeAndHangsFails) {
  ProcessResult sweep = RunSelftest("run selftest_closes_pipe --seeds 4 --jobs 2 --seed-timeout-s 1",
                                    kShortLimitS);
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("FAIL selftest_closes_pipe seed=0x0000000000000002\n"));
  EXPECT_THAT(sweep.output, HasSubstr("faultline: 4 seeds, 1 failed\n"));
}

TEST(FaultlineCli, AChildLeftBehindByASeedDoesNotHangTheSweep) {
  // Seed 1 leaves a process holding its worker's pipe for selftest::kHangSeconds.
  for (const char* arguments : {"--seeds 4 --jobs 2", "--seeds 2", "--seed 1"}) {
    ProcessResult run = RunSelftest(
        absl::StrFormat("run selftest_forks %s --seed-timeout-s 1", arguments), kShortLimitS);
    EXPECT_EQ(run.exit_code, 0) << arguments << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr(" 0 failed\n")) << arguments;
  }
}

TEST(FaultlineCli, ReplayCommandsAreShellQuoted) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ProcessResult run = RunSelftest(
      absl::StrFormat(R"(run 'selftest it'\''s spaced' --seeds 2 --all-failures --json %s/out.jsonl)",
      dir));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const std::string replay =
      R"(faultline replay 'selftest it'\''s spaced' --seed 0x0000000000000001 --trace)";
  EXPECT_THAT(run.output, HasSubstr("FAIL selftest it's spaced seed=0x0000000000000001\n"));
  EXPECT_THAT(run.output, HasSubstr("  replay: " + replay));
  EXPECT_THAT(Slurp(dir + "/out.jsonl"), HasSubstr(R"("replay":"faultline replay 'selftest it'\\''s)"));
  // The printed command, pasted into a shell, replays that seed of that scenario.
  ProcessResult replayed = RunSelftest(replay.substr(std::string("faultline ").size()));
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_THAT(replayed.output, HasSubstr("seed=0x0000000000000001\n  violated: always"));
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, AReportPathThatIsAFifoWithNoReaderIsRefused) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ASSERT_EQ(mkfifo((dir + "/fifo").c_str(), 0600), 0);
  ProcessResult run =
      RunFaultline(absl::StrFormat("run demo --seeds 2 --json %s/fifo", dir), kShortLimitS);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrFormat("cannot write '%s/fifo': ", dir)));
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, ClosedStandardStreamsNeverLetConsoleTextIntoAReport) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  // Started with stdin, stdout and stderr closed: the report must not become
  // the process's stdout.
  const int status = std::system(absl::StrFormat(
      "timeout -s KILL %d %s run selftest_hostile_detail --seeds 2 --jobs 2 --json %s/out.jsonl "
      "<&- >&- 2>&-", kShortLimitS, FAULTLINE_SELFTEST_BINARY, dir).c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  const std::string json = Slurp(dir + "/out.jsonl");
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 2) << json;
  EXPECT_EQ(json.rfind("{\"scenario\":\"selftest_hostile_detail\"", 0), 0u) << json;
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, AnOptionGivenTwiceIsRefused) {
  for (const char* arguments : {"run demo --seeds 3 --jobs 2 --jobs 3",
                                "run demo --seeds 3 --seeds 4", "run demo --seed 1 --seed 2",
                                "run demo --seeds 2 --json a.jsonl --json b.jsonl"}) {
    ProcessResult run = RunFaultline(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr("given twice")) << arguments;
  }
}

TEST(FaultlineCli, HostileNumbersAndPathsGetAOneLineErrorAndExitTwo) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::pair<std::string, std::string> cases[] = {
      {"run demo --seed 0x", "malformed seed '0x'"},
      {"run demo --seed -1", "malformed seed '-1'"},
      {"run demo --seed 18446744073709551616", "malformed seed '18446744073709551616'"},
      {"run demo --seed 1e3", "malformed seed '1e3'"},
      {"run demo --seeds 3 --jobs 10000", "--jobs takes a count from 1 to 256"},
      {"run demo --seeds 3 --jobs 0", "--jobs takes a count from 1 to 256"},
      {"run demo --seeds 3 --seed-timeout-s -1", "--seed-timeout-s takes whole seconds"},
      {"run demo --seeds 3 --seed-timeout-s nan", "--seed-timeout-s takes whole seconds"},
      {"run demo --seeds 3 --time-budget 1e9", "--time-budget takes whole seconds"},
      {"run demo --seeds 2 --first-seed 0xffffffffffffffff", "runs past 2^64-1"},
      {"run demo --seeds 3 --json " + dir, "cannot write '" + dir + "': Is a directory"},
  };
  for (const auto& [arguments, message] : cases) {
    ProcessResult result = RunFaultline(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments;
    EXPECT_THAT(result.output, HasSubstr(message)) << arguments;
  }
  std::filesystem::remove_all(dir);
}

// Reads `pid`'s state letter from /proc ('R', 'S', 'Z', ...), or 0 if it is gone.
char ProcessState(pid_t pid) {
  std::ifstream stat(absl::StrFormat("/proc/%d/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? 0 : text[paren + 2];
}

TEST(FaultlineCli, AWorkerDiesWithTheSweepThatStartedIt) {
  // A CI job's timeout kills the sweep: its workers, mid-seed, must not run
  // on as orphans.
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string pid_file = dir + "/worker.pid";
  FILE* shell = popen(absl::StrFormat("FAULTLINE_SELFTEST_PID_FILE=%s %s run "
                                      "selftest_hangs_telling_pid --seeds 2 >/dev/null 2>&1 & "
                                      "echo $!",
                                      pid_file, FAULTLINE_SELFTEST_BINARY)
                          .c_str(),
                      "r");
  ASSERT_NE(shell, nullptr);
  int sweep_pid = 0;
  ASSERT_EQ(fscanf(shell, "%d", &sweep_pid), 1);
  pclose(shell);
  int worker_pid = 0;
  for (int i = 0; i < 2000 && worker_pid == 0; ++i) {  // the worker started its seed
    std::ifstream(pid_file) >> worker_pid;
    if (worker_pid == 0) usleep(10'000);
  }
  ASSERT_NE(worker_pid, 0);
  ASSERT_EQ(kill(sweep_pid, SIGKILL), 0);
  for (int i = 0; i < 2000 && ProcessState(worker_pid) != 0 && ProcessState(worker_pid) != 'Z';
       ++i) {
    usleep(10'000);
  }
  const char state = ProcessState(worker_pid);
  EXPECT_TRUE(state == 0 || state == 'Z') << "the worker still runs: state " << state;
  if (state != 0 && state != 'Z') kill(worker_pid, SIGKILL);
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, AReportPathThatIsTheConsoleOutputIsRefused) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  // RunBinary sends stderr where stdout goes: the log file here.
  ProcessResult run = RunFaultline(absl::StrFormat(
      "run demo --seeds 2 --junit %s/log --json %s/out >>%s/log", dir, dir, dir));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(Slurp(dir + "/log"),
              HasSubstr(absl::StrFormat("cannot write '%s/log': it is where this command's", dir)));
  std::filesystem::remove_all(dir);
}

TEST(FaultlineCli, WorkersThatCannotBeStartedAreAnErrorNotACrash) {
  // 256 workers need 256 pipes: far more than 24 descriptors allow.
  const std::string limited =
      absl::StrFormat("sh -c 'ulimit -n 24; exec \"$0\" \"$@\"' %s", FAULTLINE_BINARY);
  ProcessResult run = RunBinary(limited, "run demo --seeds 300 --jobs 256");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("faultline: cannot start a worker process: pipe2(): "));
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("FAULTLINE_CHECK")));
  EXPECT_THAT(run.output, ::testing::ContainsRegex("faultline: [0-9]+ seeds, 0 failed, [0-9]+ not run"));
}

TEST(FaultlineCli, AWorkerThatDiesWhileAChildHoldsItsPipeFailsItsSeed) {
  // Seed 1 leaves a child holding the pipe and aborts: no end of pipe comes,
  // yet the seed fails at once as a crash, before the time budget ends
  // (which would count it as not run, and exit 0).
  ProcessResult run = RunSelftest(
      "run selftest_forks_then_aborts --seeds 2 --time-budget 5 --seed-timeout-s 60", kShortLimitS);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("FAIL selftest_forks_then_aborts seed=0x0000000000000001\n"
                                    "  violated: worker crashed: the worker process died of "
                                    "signal 6"));
  EXPECT_THAT(run.output, HasSubstr("faultline: 2 seeds, 1 failed\n"));
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST(FaultlineCli, ASweepWithManyFailuresPrintsOneGroupPerInvariant) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  ProcessResult sweep = RunSelftest(
      absl::StrFormat("run selftest_many_failures --seeds 30 --jobs 2 --json %s/out.jsonl", dir));
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("faultline: 30 seeds, 30 failed\n"));
  // Seeds 0 mod 3 break "prefix" (10 seeds), the others "clean-recovery".
  EXPECT_THAT(sweep.output, HasSubstr("clean-recovery: 20 failing seeds (selftest_many_failures "
                                      "0x0000000000000001, 0x0000000000000002, 0x0000000000000004"
                                      " and 17 more)"));
  EXPECT_THAT(sweep.output, HasSubstr("prefix: 10 failing seeds (selftest_many_failures "
                                      "0x0000000000000000, 0x0000000000000003, 0x0000000000000006"
                                      " and 7 more)"));
  // One block per group, not one per seed; each violation worded once.
  EXPECT_EQ(Occurrences(sweep.output, "\nFAIL "), 2u) << sweep.output;
  EXPECT_EQ(Occurrences(sweep.output, "  faults injected: "), 2u) << sweep.output;
  EXPECT_EQ(Occurrences(sweep.output, "violated"), 2u) << sweep.output;
  EXPECT_THAT(sweep.output, HasSubstr("  violated: prefix at sequence 3: the acknowledged record"));
  // The full list stays in the report.
  EXPECT_EQ(Occurrences(Slurp(dir + "/out.jsonl"), "\n"), 30u);
  std::filesystem::remove_all(dir);

  ProcessResult all = RunSelftest("run selftest_many_failures --seeds 30 --all-failures");
  EXPECT_EQ(all.exit_code, 1) << all.output;
  EXPECT_EQ(Occurrences(all.output, "FAIL selftest_many_failures seed="), 30u + 2u) << all.output;
}

TEST(FaultlineCli, EachGroupPointsToItsSimplestSeedWithItsReplayCommand) {
  ProcessResult sweep = RunSelftest("run selftest_many_failures --seeds 30 --jobs 2");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  // clean-recovery: seeds 7, 11, 19, 23 inject one fault; 11 takes the
  // fewest steps (119), though seed 1 (three faults) takes fewer (113).
  EXPECT_THAT(sweep.output, HasSubstr("FAIL selftest_many_failures seed=0x000000000000000b\n"
                                      "  violated: clean-recovery at sequence 11: the acknowledged "
                                      "record is gone\n  faults injected: crash=1; 119 steps\n"));
  EXPECT_THAT(sweep.output, HasSubstr("replay: faultline replay selftest_many_failures --seed "
                                      "0x000000000000000b --trace"));
  // prefix: seeds 3, 15, 27 inject one fault; 3 takes the fewest steps.
  EXPECT_THAT(sweep.output, HasSubstr("FAIL selftest_many_failures seed=0x0000000000000003\n"));
  EXPECT_THAT(sweep.output, HasSubstr("replay: faultline replay selftest_many_failures --seed "
                                      "0x0000000000000003 --trace"));
}

TEST(FaultlineCli, APlantedBugsFailuresAreGroupedByTheCheckersRules) {
  // Most of the 200 seeds fail; the checker's own wording gives the groups.
  ProcessResult sweep = RunSelftest("run selftest_wal_ack_before_sync --seeds 200 --jobs 2");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  EXPECT_THAT(sweep.output, ::testing::ContainsRegex("\nclean-recovery: [0-9]+ failing seeds \\("));
  EXPECT_THAT(sweep.output, ::testing::ContainsRegex("\nprefix: [0-9]+ failing seeds \\("));
  const size_t groups = Occurrences(sweep.output, " failing seeds (");
  EXPECT_EQ(Occurrences(sweep.output, "\nFAIL "), groups) << sweep.output;
  EXPECT_LE(groups, 5u) << sweep.output;
  EXPECT_EQ(Occurrences(sweep.output, "violated"), groups) << sweep.output;
}

TEST(FaultlineCli, AUsageErrorIsOneLineAndAHint) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "faultline: missing command\nsee 'faultline --help'\n"},
      {"frobnicate", "faultline: unknown command 'frobnicate'\nsee 'faultline --help'\n"},
      {"run demo --frob", "faultline: unknown option '--frob' for 'run'\nsee 'faultline help run'\n"},
      {"replay demo", "faultline: 'replay' needs --seed S\nsee 'faultline help replay'\n"},
      {"help nosuch", "faultline: unknown command 'nosuch'\nsee 'faultline --help'\n"},
  };
  for (const auto& [arguments, output] : cases) {
    ProcessResult result = RunFaultline(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments;
    EXPECT_EQ(result.output, output) << arguments;
  }
  ProcessResult help_run = RunFaultline("help run");
  EXPECT_EQ(help_run.exit_code, 0) << help_run.output;
  EXPECT_THAT(help_run.output, HasSubstr("faultline run <scenario|all>"));
  EXPECT_THAT(help_run.output, HasSubstr("--all-failures"));
  EXPECT_THAT(help_run.output, ::testing::Not(HasSubstr("faultline replay <scenario>")));
  ProcessResult help = RunFaultline("--help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("faultline replay <scenario>"));
}

}  // namespace
