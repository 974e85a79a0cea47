// End-to-end tests of what `--trace` prints: the scheduler's events hidden
// unless asked for, the filters of replay and run, and a verdict that points
// at the trace events behind it.
#include <sstream>
#include <regex>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/harness/cli_process_util.h"

namespace faultline::testing {
namespace {

using ::testing::HasSubstr;

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

// The event lines ("#<index> [...") of a command's output.
std::string TraceLines(const std::string& output) {
  std::string lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#') lines += line + "\n";
  }
  return lines;
}

TEST(FaultlineCli, RunTraceHidesSchedulerEventsAndFiltersLikeReplay) {
  ProcessResult run = RunFaultline("run wal_crash --seed 0x2a --trace");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, ::testing::Not(::testing::ContainsRegex(R"(s\] \S+ +(step|timer) )")));
  EXPECT_THAT(run.output, ::testing::ContainsRegex(R"(s\] n1 +io +off=[0-9]+ len=[0-9]+  write wal/)"));

  for (const char* filter : {"--trace-kind fault,crash --trace-node n1",
                             "--trace-kind sched --trace-from-ns 1000000 --trace-until-ns 1200000"}) {
    ProcessResult filtered = RunFaultline(absl::StrCat("run wal_crash --seed 0x2a ", filter));
    ProcessResult replayed = RunFaultline(absl::StrCat("replay wal_crash --seed 0x2a ", filter));
    EXPECT_EQ(filtered.exit_code, 0) << filtered.output;
    EXPECT_FALSE(TraceLines(filtered.output).empty()) << filter;
    EXPECT_EQ(TraceLines(filtered.output), TraceLines(replayed.output)) << filter;
  }
  ProcessResult node = RunFaultline("run wal_crash --seed 0x2a --trace-kind fault,crash --trace-node n1");
  EXPECT_THAT(node.output, ::testing::ContainsRegex(R"(s\] n1 +fault +kind=)"));
  EXPECT_THAT(node.output, ::testing::Not(::testing::ContainsRegex(R"(s\] (sim|n1 +(io|check|step)) )")));
}

// The line of `output` that prints trace event #`index`, or "".
std::string EventLine(const std::string& output, const std::string& index) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#" + index + " ", 0) == 0) return line;
  }
  return "";
}

TEST(FaultlineCli, ALostAcknowledgementsVerdictPointsAtItsTraceEvents) {
  // A WAL that acknowledges before it syncs (tests/scenarios/buggy_file_systems.h)
  // loses acknowledged records at a crash: the verdict names the event that
  // acknowledged the lost record and the crash that lost it, and those
  // events are in the trace --trace prints.
  // The sweep's summary shows the simplest seed of the group that lost an
  // acknowledged record with its pointers; that seed is then replayed.
  ProcessResult sweep = RunSelftest("run selftest_wal_ack_before_sync --seeds 20");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  std::smatch group;
  static const std::regex prefix_group(
      "prefix: [0-9]+ failing seeds [^\\n]*\\nFAIL selftest_wal_ack_before_sync seed=(0x[0-9a-f]+)\\n"
      "  violated: prefix [^\\n]*\\n  trace events: #[0-9]+ acknowledged sequence");
  ASSERT_TRUE(std::regex_search(sweep.output, group, prefix_group)) << sweep.output;

  ProcessResult replay =
      RunSelftest("replay selftest_wal_ack_before_sync --seed " + group[1].str() + " --trace");
  EXPECT_EQ(replay.exit_code, 1) << replay.output;
  std::smatch match;
  static const std::regex pointers(
      "  trace events: #([0-9]+) acknowledged sequence ([0-9]+), #([0-9]+) the crash that lost it\\n");
  ASSERT_TRUE(std::regex_search(replay.output, match, pointers)) << replay.output;
  EXPECT_THAT(replay.output, HasSubstr("  violated: prefix at sequence " + match[2].str() + ":"));
  const std::string ack = EventLine(replay.output, match[1].str());
  // An acknowledgement: a durability future resolved, or the durable
  // position the log claimed before a crash.
  EXPECT_THAT(ack, ::testing::ContainsRegex(
                       R"(s\] n1 +check +durable=[0-9]+ issued=[0-9]+  (acknowledged|durable claimed))"))
      << replay.output;
  const std::string crash = EventLine(replay.output, match[3].str());
  EXPECT_THAT(crash, ::testing::ContainsRegex(R"(s\] n1 +crash +incarnation=)")) << replay.output;
  EXPECT_LT(std::stoull(match[1].str()), std::stoull(match[3].str()));
}

TEST(FaultlineCli, ReplayTraceFiltersByKindAndNode) {
  ProcessResult crash = RunFaultline("replay wal_crash --seed 0x2a --trace-kind crash,fault");
  EXPECT_EQ(crash.exit_code, 0) << crash.output;
  EXPECT_THAT(crash.output, ::testing::ContainsRegex(R"(s\] n1 +crash +incarnation=)"));
  // What the crash did to a pending operation.
  EXPECT_THAT(crash.output, ::testing::ContainsRegex(
                                R"(s\] n1 +disk +(off=[0-9]+ len=[0-9]+  write|size=[0-9]+  truncate|create|rename|remove|mkdir) wal/[^ ]+: (dropped|persisted|torn))"));
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

TEST(FaultlineCli, ANodeNoEventIsFromIsNamedNotAnEmptyTrace) {
  // `--trace-node N1` (or a node the scenario does not have) printed no
  // event at all, as if the run had done nothing on that node.
  for (const char* command : {"replay", "run"}) {
    ProcessResult traced =
        RunFaultline(absl::StrCat(command, " wal_crash --seed 0x2a --trace-node N1"));
    EXPECT_EQ(traced.exit_code, 0) << traced.output;
    EXPECT_THAT(traced.output,
                HasSubstr("no trace event is from node 'N1' (this run's nodes: n1, sim)"))
        << command;
  }
  ProcessResult known = RunFaultline("replay wal_crash --seed 0x2a --trace-node n1");
  EXPECT_THAT(known.output, ::testing::Not(HasSubstr("no trace event is from node")));
}

TEST(FaultlineCli, ASignedFieldPrintsWithItsSign) {
  // Seed 0x2a gives n1 a clock running 18 ppm slow: the trace said
  // drift_ppm=18446744073709551598, the two's complement read as unsigned.
  ProcessResult replay = RunFaultline("replay wal_crash --seed 0x2a --trace-kind app");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, ::testing::ContainsRegex(R"(s\] n1 +app +offset_ns=[0-9]+ drift_ppm=-18  node clock)"));
}

}  // namespace
}  // namespace faultline::testing
