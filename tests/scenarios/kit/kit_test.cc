// tests/scenarios/kit/kit_test.cc — the scenario kit: verdicts, coverage,
// crashes now and at an I/O operation, recovery scopes, and the example
// scenario (counter_scenario.h) under the crash-round nemesis.
#include <map>
#include <memory>
#include <vector>
#include <string>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "core/runtime/event.h"
#include "scenarios/kit/coverage.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/random_crashes.h"
#include "scenarios/kit/world.h"
#include "tests/scenarios/kit/counter_scenario.h"

namespace faultline::scenarios::kit {
namespace {

TEST(KitWorld, FirstViolationWinsAndEndsTheRun) {
  World world(ScenarioOptions{.seed = 1, .record_trace = true});
  bool ran_after_violation = false;
  world.StartNemesis([&] {
    EXPECT_TRUE(world.Check(absl::OkStatus(), "fine", {"x", 7}, {"y", 8}));
    EXPECT_FALSE(world.Check(absl::InternalError("first"), "bad"));
    world.Fail("second");
    EXPECT_TRUE(world.over());
    world.scheduler().Yield();  // Stop takes effect here
    ran_after_violation = true;
  });
  const ScenarioResult result = world.Run();
  EXPECT_FALSE(result.passed());
  EXPECT_EQ(result.violation, "first");
  EXPECT_EQ(result.run.outcome, sim::RunResult::Outcome::kStopped);
  EXPECT_FALSE(ran_after_violation);
  EXPECT_NE(result.trace_dump.find("x=7 y=8  fine"), std::string::npos) << result.trace_dump;
  EXPECT_NE(result.trace_dump.find("first"), std::string::npos);
}

TEST(KitCoverage, CountsByNameAndSummarizesInOrder) {
  FaultCoverage coverage;
  EXPECT_EQ(coverage.Count("crash"), 1u);
  EXPECT_EQ(coverage.Count("crash"), 2u);
  coverage.Count("bit_flip", 3);
  EXPECT_EQ(coverage.count("crash"), 2u);
  EXPECT_EQ(coverage.count("never"), 0u);
  EXPECT_EQ(coverage.Summary(), "bit_flip=3 crash=2");
  EXPECT_EQ(coverage.Snapshot(), (std::map<std::string, uint64_t>{{"bit_flip", 3}, {"crash", 2}}));
}

// A node whose main writes `writes` times to a file and records how far it got.
struct WritingNode {
  World world{ScenarioOptions{.seed = 5}};
  sim::disk::SimDisk disk{world.scheduler()};
  Node node{world, "n1"};
  int written = 0;
  int before_crash_calls = 0;

  explicit WritingNode(int writes) {
    node.AttachDisk(disk, 0);
    node.SetBeforeCrash([this] { ++before_crash_calls; });
    node.SetMain([this, writes](Life) {
      auto file = node.FileSystem().Open("f", io::OpenMode::kCreate);
      ASSERT_TRUE(file.ok());
      for (int i = 0; i < writes; ++i) {
        ASSERT_TRUE((*file)->Append("x").ok());
        ++written;
      }
      node.Finish();
    });
  }
};

TEST(KitNode, CrashesAtTheArmedOperation) {
  WritingNode n(10);
  n.node.ArmCrashAtOp(OpCrash{.ops = ArmedOps::kWrite, .countdown = 3, .label = "crash_mid_write"});
  n.node.Start();
  n.world.StartNemesis([&] {
    n.node.WaitForCrashOrFinish();
    EXPECT_FALSE(n.node.alive());
    EXPECT_FALSE(n.node.finished());
    EXPECT_FALSE(n.node.CrashNow("again", "again"));  // already dead: nothing counted
  });
  const ScenarioResult result = n.world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(n.written, 2);  // crashed before the 3rd write took effect
  EXPECT_EQ(n.before_crash_calls, 1);
  EXPECT_EQ(result.faults_injected,
            (std::map<std::string, uint64_t>{{"crash", 1}, {"crash_mid_write", 1}}));
}

TEST(KitNode, AProcessCrashAtAnOperationKeepsThePageCacheUntilThePowerGoes) {
  WritingNode n(10);
  n.node.ArmCrashAtOp(OpCrash{.ops = ArmedOps::kWrite, .countdown = 3, .label = "crash_mid_write",
                              .kind = CrashKind::kProcess});
  n.node.Start();
  size_t cached_after_crash = 0;
  n.world.StartNemesis([&] {
    n.node.WaitForCrashOrFinish();
    EXPECT_FALSE(n.node.alive());
    n.node.SettleDisk();  // a no-op: the arm settled a process crash
    cached_after_crash = n.disk.CacheImage(n.node.id()).files.at("f").size();
    n.node.PowerLoss();   // now the unsynced writes go (the file was never synced)
    EXPECT_EQ(n.disk.DurableImage(n.node.id()).files.count("f"), 0u);
  });
  const ScenarioResult result = n.world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(n.written, 2);
  EXPECT_EQ(cached_after_crash, 2 * sizeof("x"));  // both writes still in the page cache
  EXPECT_EQ(result.faults_injected.at("power_loss_while_down"), 1u);
}

TEST(KitNode, AProcessCrashNowKeepsThePageCacheIntoTheNextIncarnation) {
  World world(ScenarioOptions{.seed = 4});
  sim::disk::SimDisk disk(world.scheduler());
  Node node(world, "n1");
  node.AttachDisk(disk, 0);
  uint64_t size_seen_by_verify = 0;
  node.SetMain([&](Life life) {
    auto file = node.FileSystem().Open("f", io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    if (life == Life::kWork) {
      ASSERT_TRUE((*file)->Append("abc").ok());  // never synced
    } else {
      absl::StatusOr<uint64_t> size = (*file)->Size();
      ASSERT_TRUE(size.ok());
      size_seen_by_verify = *size;
      node.NoteVerified();
    }
    node.Finish();
  });
  node.Start();
  world.StartNemesis([&] {
    node.WaitForCrashOrFinish();
    EXPECT_TRUE(node.CrashNow("crash_at_time", "crash_at_time"));
    node.SettleDisk(CrashKind::kProcess);
    // Nothing was synced: the device holds no data of "f"; only the page
    // cache does, and the next incarnation must read it from there.
    const sim::disk::DiskImage durable = disk.DurableImage(node.id());
    EXPECT_TRUE(durable.files.count("f") == 0 || durable.files.at("f").empty());
    node.Restart(Life::kVerify);
    node.WaitForCrashOrFinish();
    world.scheduler().Stop("done");
  });
  const ScenarioResult result = world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(size_seen_by_verify, sizeof("abc"));  // the unsynced append outlived the process
}

TEST(KitCrashRounds, DrawsPowerLossAlwaysAndProcessCrashesInSomeSeeds) {
  int with_process = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    sim::Prng swarm(seed);
    const std::vector<RoundCrash> kinds = DrawRoundCrashes(swarm);
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.front(), RoundCrash::kPowerLoss);
    if (kinds.size() > 1) ++with_process;
  }
  EXPECT_GT(with_process, 20);
  EXPECT_LT(with_process, 60);
}

TEST(KitCrashRounds, ATimedCrashOfANodeThatHadFinishedCountsAsIdle) {
  World world(ScenarioOptions{.seed = 3});
  Node node(world, "n1");
  node.SetMain([&](Life life) {
    if (life == Life::kVerify) node.NoteVerified();
    node.Finish();  // no work: every timed crash finds the node idle
  });
  CrashRoundsPlan plan;
  plan.rounds = 2;
  plan.moments = {CrashMoment{.label = "crash_at_time"}};
  plan.time_horizon_ns = 1'000'000;
  node.Start();
  world.StartNemesis([&] { RunCrashRounds(world, node, plan, nullptr); });
  const ScenarioResult result = world.Run();
  EXPECT_TRUE(result.passed()) << result.violation;
  EXPECT_EQ(result.faults_injected.count("crash_at_time"), 0u);
  EXPECT_EQ(result.faults_injected.at("crash_idle"), 2u);
}

TEST(KitNode, AnArmForRecoveryIgnoresOtherOperationsAndIsDisarmedWhenRecoveryEnds) {
  WritingNode n(4);
  n.node.ArmCrashAtOp(OpCrash{.ops = ArmedOps::kAnyOp, .countdown = 1, .label = "crash_in_recovery",
                              .during_recovery = true});
  n.node.Start();
  n.world.StartNemesis([&] {
    n.node.WaitForCrashOrFinish();
    EXPECT_TRUE(n.node.alive());
    EXPECT_TRUE(n.node.armed_for_recovery());  // the writes were not a recovery
    {
      Node::RecoveryScope recovering(n.node);  // a recovery that does no I/O
    }
    EXPECT_FALSE(n.node.armed_for_recovery());
    EXPECT_TRUE(n.node.wake().is_set());
  });
  const ScenarioResult result = n.world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(n.written, 4);
  EXPECT_EQ(n.before_crash_calls, 0);
  EXPECT_TRUE(result.faults_injected.empty());
}

TEST(KitNode, CrashNowCountsItsKindAndRestartBeginsANewIncarnation) {
  World world(ScenarioOptions{.seed = 2});
  Node node(world, "n1");
  int incarnations = 0;
  runtime::Event never(world.scheduler());
  node.SetMain([&](Life life) {
    ++incarnations;
    if (life == Life::kVerify) {
      node.NoteVerified();
      node.Finish();
      return;
    }
    never.Wait();
  });
  node.Start();
  world.StartNemesis([&] {
    world.scheduler().SleepFor(10);
    EXPECT_TRUE(node.CrashNow("crash_at_time", "crash_at_time"));
    node.Restart(Life::kVerify);
    node.WaitForCrashOrFinish();
    EXPECT_TRUE(node.verified());
    world.scheduler().Stop("done");
  });
  const ScenarioResult result = world.Run();
  EXPECT_TRUE(result.passed()) << result.run.detail;
  EXPECT_EQ(incarnations, 2);
  EXPECT_EQ(result.faults_injected,
            (std::map<std::string, uint64_t>{{"crash", 1}, {"crash_at_time", 1}}));
}

TEST(KitRandomCrashes, CrashesUnfinishedNodesAndStopsWhenAllFinished) {
  uint64_t total_crashes = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    World world(ScenarioOptions{.seed = seed});
    std::vector<std::unique_ptr<Node>> nodes;
    std::vector<int> incarnations(3, 0);
    for (int n = 0; n < 3; ++n) {
      nodes.push_back(std::make_unique<Node>(world, absl::StrCat("n", n + 1)));
      Node& node = *nodes.back();
      node.SetMain([&world, &node, &incarnations, n](Life) {
        ++incarnations[static_cast<size_t>(n)];
        world.scheduler().SleepFor(50'000);
        node.Finish();
      });
    }
    for (auto& node : nodes) node->Start();
    world.StartNemesis([&] {
      RunRandomCrashes(world, nodes,
                       {.max_rounds = 4, .max_gap_ns = 20'000, .max_down_ns = 5'000,
                        .label = "nemesis", .done_reason = "all finished"});
    });
    const ScenarioResult result = world.Run();
    ASSERT_TRUE(result.passed()) << result.run.detail;
    EXPECT_EQ(result.run.detail, "all finished");
    const uint64_t crashes = result.faults_injected.count("crash") ? result.faults_injected.at("crash") : 0;
    EXPECT_EQ(static_cast<uint64_t>(incarnations[0] + incarnations[1] + incarnations[2] - 3), crashes);
    for (auto& node : nodes) EXPECT_TRUE(node->finished());
    total_crashes += crashes;
  }
  EXPECT_GT(total_crashes, 0u);
}

TEST(KitExample, CounterScenarioPassesSeedsAndReplays) {
  std::map<std::string, uint64_t> total;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const ScenarioResult result = example::RunCounter(ScenarioOptions{.seed = seed});
    ASSERT_TRUE(result.passed()) << "seed " << seed << ": " << result.violation << result.run.detail;
    for (const auto& [kind, count] : result.faults_injected) total[kind] += count;
    if (seed % 25 == 0) {
      EXPECT_EQ(result.run.trace_hash, example::RunCounter(ScenarioOptions{.seed = seed}).run.trace_hash);
    }
  }
  for (const char* kind : {"crash", "crash_at_time", "crash_mid_sync", "crash_in_recovery",
                           "crash_final", "dropped_write"}) {
    EXPECT_GT(total[kind], 0u) << kind;
  }
}

TEST(KitExample, AcknowledgingBeforeTheSyncIsCaught) {
  int caught = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const ScenarioResult result = example::RunCounter(ScenarioOptions{.seed = seed}, true);
    if (!result.passed()) {
      EXPECT_NE(result.violation.find("lost acknowledged record"), std::string::npos);
      ++caught;
    }
  }
  EXPECT_GT(caught, 0);
}

}  // namespace
}  // namespace faultline::scenarios::kit
