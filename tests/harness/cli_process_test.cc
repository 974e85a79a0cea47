// End-to-end tests of the `faultline` binary as a user runs it: the same
// seed gives the same trace hash in two separate processes, different seeds
// give different runs, and bad usage exits 2 with a message.
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
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

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

ProcessResult RunBinary(const std::string& binary, const std::string& arguments) {
  const std::string command = binary + " " + arguments + " 2>&1";
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

ProcessResult RunFaultline(const std::string& arguments) {
  return RunBinary(FAULTLINE_BINARY, arguments);
}

// The same command line with the hostile selftest_* scenarios registered.
ProcessResult RunSelftest(const std::string& arguments) {
  return RunBinary(FAULTLINE_SELFTEST_BINARY, arguments);
}

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
  ProcessResult replay = RunFaultline("replay demo --seed 3 --trace --log-level debug");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(\[ +0\.[0-9]{9}s\] n[1-3] +step)"));
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(\[ +0\.[0-9]{9}s sim\] debug: nemesis)"));
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

}  // namespace
