// Tests for harness/cli_args: every malformed command line is a clear
// InvalidArgument, never a crash.
#include "harness/cli_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace faultline::harness {
namespace {

using ::testing::HasSubstr;

TEST(ParseSeed, AcceptsDecimalAndHex) {
  EXPECT_EQ(*ParseSeed("0"), 0u);
  EXPECT_EQ(*ParseSeed("42"), 42u);
  EXPECT_EQ(*ParseSeed("0x2a"), 42u);
  EXPECT_EQ(*ParseSeed("0XFFFFFFFFFFFFFFFF"), UINT64_MAX);
  EXPECT_EQ(*ParseSeed("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSeed, RejectsMalformedSeeds) {
  for (const char* bad : {"", "12x", "-1", "0x", "0xg1", "18446744073709551616", " 5", "5 ",
                          "1e9", "0x1ffffffffffffffff"}) {
    absl::StatusOr<uint64_t> seed = ParseSeed(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(seed.status())) << "'" << bad << "'";
  }
}

TEST(ParseCliArgs, ParsesRunAndReplay) {
  auto run = ParseCliArgs({"run", "all", "--seeds", "100", "--first-seed", "0x10"});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->command, Command::kRun);
  EXPECT_EQ(run->scenario, "all");
  EXPECT_EQ(run->seed_count, 100u);
  EXPECT_EQ(run->first_seed, 16u);
  EXPECT_EQ(run->log_level, "off");  // sweeps are quiet by default
  EXPECT_EQ(ParseCliArgs({"run", "demo", "--seed", "1"})->log_level, "warn");
  auto replay = ParseCliArgs({"replay", "demo", "--seed", "7", "--trace", "--log-level", "debug"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->command, Command::kReplay);
  EXPECT_EQ(replay->first_seed, 7u);
  EXPECT_TRUE(replay->trace);
  EXPECT_EQ(replay->log_level, "debug");
  EXPECT_EQ(run->seed_timeout_ns, 60'000'000'000);  // generous by default
  // The last seeds there are, up to and including 2^64-1.
  auto last = ParseCliArgs({"run", "all", "--first-seed", "18446744073709551606", "--seeds", "10"});
  ASSERT_TRUE(last.ok()) << last.status();
  auto limited = ParseCliArgs({"check-determinism", "all", "--seed-timeout-s", "5"});
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_EQ(limited->seed_timeout_ns, 5'000'000'000);
}

TEST(ParseCliArgs, ParsesExplore) {
  auto all = ParseCliArgs({"explore", "wal_crash", "--ops", "12", "--states-per-point", "64",
                           "--time-budget", "5", "--seed", "3"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->command, Command::kExplore);
  EXPECT_EQ(all->explore_ops, 12u);
  EXPECT_EQ(all->states_per_point, 64u);
  EXPECT_EQ(all->time_budget_ns, 5'000'000'000);
  EXPECT_EQ(all->first_seed, 3u);
  EXPECT_EQ(all->log_level, "off");
  auto one = ParseCliArgs({"explore", "wal_crash", "--point", "7", "--state", "0"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->explore_point, 7u);
  EXPECT_EQ(one->explore_state, 0u);
}

TEST(ParseCliArgs, RejectsBadUsageWithAMessage) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"run"}, "needs a scenario name"},
      {{"run", "--seed", "1"}, "needs a scenario name"},
      {{"run", "demo", "--seed"}, "--seed needs a value"},
      {{"run", "demo", "--seed", "abc"}, "malformed seed 'abc'"},
      {{"run", "demo", "--seeds", "0"}, "--seeds takes a count"},
      {{"run", "demo", "--bogus"}, "unknown option '--bogus'"},
      {{"run", "demo", "--seed", "1", "--seeds", "5"}, "--seed names one seed"},
      {{"run", "demo", "--log-level", "loud"}, "unknown log level 'loud'"},
      {{"replay", "demo"}, "'replay' needs --seed"},
      {{"replay", "demo", "--seeds", "3", "--seed", "1"}, "unknown option '--seeds'"},
      {{"replay", "all", "--seed", "1"}, "not 'all'"},
      {{"list", "--seed", "1"}, "'list' takes no options"},
      {{"run", "demo", "--seed-timeout-s", "0"}, "--seed-timeout-s takes whole seconds"},
      {{"run", "all", "--first-seed", "0xffffffffffffffff", "--seeds", "2"}, "past 2^64-1"},
      {{"check-determinism", "all", "--seeds", "10", "--first-seed", "18446744073709551607"},
       "past 2^64-1"},
      {{"replay", "demo", "--seed", "1", "--seed-timeout-s", "5"}, "unknown option"},
      {{"run", "demo", "--seeds", "3", "--jobs", "2", "--jobs", "3"}, "--jobs given twice"},
      {{"run", "demo", "--trace", "--trace"}, "--trace given twice"},
      {{"replay", "demo", "--seed", "1", "--trace-kind", "io,disk"}, "unknown trace kind 'disk'"},
      {{"replay", "demo", "--seed", "1", "--trace-node", ""}, "--trace-node needs a node name"},
      {{"check-determinism", "demo", "--trace-kind", "io"}, "unknown option '--trace-kind'"},
      {{"run", "demo", "--trace-kind", "bogus"}, "unknown trace kind 'bogus'"},
      {{"run", "demo", "--seeds", "3", "--trace"}, "--trace prints one seed's trace"},
      {{"run", "all", "--seed", "1", "--trace-kind", "io"}, "--trace prints one seed's trace"},
      {{"run", "demo", "--seed", "1", "--seed", "2"}, "--seed given twice"},
      {{"explore", "wal_crash", "--ops", "0"}, "--ops takes a count"},
      {{"explore", "wal_crash", "--states-per-point", "x"}, "--states-per-point takes a count"},
      {{"explore", "wal_crash", "--state", "2"}, "give --point K too"},
      {{"explore", "wal_crash", "--point", "0"}, "--point takes a number from 1"},
      {{"explore", "wal_crash", "--point", "2", "--ops", "3"}, "--point replays one crash point"},
      {{"explore", "wal_crash", "--seeds", "3"}, "unknown option '--seeds'"},
      {{"explore"}, "needs a scenario name"},
      // A window that ends before it starts would print an empty trace, as
      // if the run had done nothing.
      {{"replay", "demo", "--seed", "1", "--trace-from-ns", "5", "--trace-until-ns", "3"},
       "--trace-until-ns 3 is before --trace-from-ns 5"},
      {{"replay", "demo", "--seed", "1", "--trace-from-ns", "-1"}, "--trace-from-ns takes"},
      {{"replay", "demo", "--seed", "1", "--trace-until-ns", "9223372036854775808"},
       "--trace-until-ns takes"},
  };
  for (const auto& [args, message] : cases) {
    absl::StatusOr<CliArgs> parsed = ParseCliArgs(args);
    ASSERT_FALSE(parsed.ok()) << message;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(message));
  }
}

TEST(ParseCliArgs, HelpTakesAtMostOneKnownCommand) {
  auto all = ParseCliArgs({"help"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->command, Command::kHelp);
  EXPECT_EQ(all->help_topic, "");
  auto run = ParseCliArgs({"help", "run"});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->help_topic, "run");
  EXPECT_THAT(CommandUsageText("run"), HasSubstr("--all-failures"));
  EXPECT_THAT(CommandUsageText("run"), ::testing::Not(HasSubstr("faultline replay")));
  EXPECT_EQ(CommandUsageText("nosuch"), "");
  for (std::vector<std::string> bad : {std::vector<std::string>{"help", "nosuch"},
                                       {"help", "run", "replay"}, {"--help", "run"}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseCliArgs(bad).status())) << bad[1];
  }
}

TEST(ParseCliArgs, AllFailuresIsARunOption) {
  auto run = ParseCliArgs({"run", "all", "--seeds", "10", "--all-failures"});
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->all_failures);
  EXPECT_FALSE(ParseCliArgs({"run", "all", "--seeds", "10"})->all_failures);
  EXPECT_FALSE(ParseCliArgs({"replay", "demo", "--seed", "1", "--all-failures"}).ok());
  EXPECT_FALSE(ParseCliArgs({"run", "all", "--all-failures", "--all-failures"}).ok());
}

}  // namespace
}  // namespace faultline::harness
