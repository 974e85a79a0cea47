// scenarios/demo.cc — see demo.h.
#include "scenarios/demo.h"

#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/runtime/channel.h"
#include "core/runtime/event.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"

namespace faultline::scenarios {
namespace {

constexpr int kNodeCount = 3;
constexpr int kProducersPerNode = 2;
constexpr int kConsumersPerNode = 2;
constexpr int kItemsPerProducer = 40;
constexpr int kMaxCrashes = 4;
constexpr int64_t kMaxThinkNs = 50'000;  // 50 µs of virtual time

// One incarnation of one node's pipeline. Returns normally only if the
// incarnation ran to completion; a crash unwinds it.
void RunPipeline(sim::Scheduler& scheduler, int node_index, std::string& violation) {
  sim::Prng& workload = scheduler.prng(sim::Stream::kWorkload);
  runtime::Channel<int> channel(scheduler, 1 + workload.Below(4));
  runtime::Mutex tally_mutex(scheduler);
  std::multiset<int> consumed;
  std::vector<runtime::JoinHandle> producers, consumers;
  for (int p = 0; p < kProducersPerNode; ++p) {
    producers.push_back(runtime::Spawn(scheduler, absl::StrCat("producer", p), [&, p] {
      for (int i = 0; i < kItemsPerProducer; ++i) {
        const absl::Status sent = channel.Send(p * kItemsPerProducer + i);
        if (!sent.ok()) violation = absl::StrCat("send failed: ", sent.ToString());
        scheduler.SleepFor(workload.Exponential(kMaxThinkNs / 4));
      }
    }));
  }
  for (int c = 0; c < kConsumersPerNode; ++c) {
    consumers.push_back(runtime::Spawn(scheduler, absl::StrCat("consumer", c), [&] {
      while (true) {
        absl::StatusOr<int> item = channel.Receive();
        if (!item.ok()) return;  // closed and drained
        runtime::MutexLock lock(tally_mutex);
        scheduler.SleepFor(workload.Below(kMaxThinkNs));  // hold the lock across a park
        consumed.insert(*item);
      }
    }));
  }
  for (auto& producer : producers) producer.Join();
  channel.Close();
  for (auto& consumer : consumers) consumer.Join();
  // Checker: exactly the items sent, each once.
  std::multiset<int> expected;
  for (int i = 0; i < kProducersPerNode * kItemsPerProducer; ++i) expected.insert(i);
  if (consumed != expected) {
    violation = absl::StrFormat("node %d: consumed %d items, expected each of %d exactly once",
                                node_index, consumed.size(), expected.size());
  }
  scheduler.Record(sim::TraceKind::kCheck, consumed.size(), 0, "pipeline complete");
  spdlog::debug("pipeline complete: {} items consumed", consumed.size());
}

}  // namespace

ScenarioResult RunDemo(const ScenarioOptions& options) {
  sim::SchedulerOptions scheduler_options = options.scheduler;
  scheduler_options.seed = options.seed;
  scheduler_options.record_trace = options.record_trace;
  sim::Scheduler scheduler(scheduler_options);
  ScenarioResult result;
  std::string violation;

  std::vector<sim::NodeId> nodes;
  std::vector<std::unique_ptr<runtime::Event>> completed;
  for (int n = 0; n < kNodeCount; ++n) {
    nodes.push_back(scheduler.AddNode(absl::StrCat("n", n + 1)));
    completed.push_back(std::make_unique<runtime::Event>(scheduler));
  }
  auto node_main = [&](int n) {
    return [&, n] {
      RunPipeline(scheduler, n, violation);
      completed[n]->Set();
    };
  };
  for (int n = 0; n < kNodeCount; ++n) scheduler.StartFiberOn(nodes[n], "main", node_main(n));

  uint64_t crashes = 0;
  scheduler.StartFiber("nemesis", [&] {
    sim::Prng& crash_prng = scheduler.prng(sim::Stream::kCrash);
    const int rounds = static_cast<int>(crash_prng.Below(kMaxCrashes + 1));
    for (int round = 0; round < rounds; ++round) {
      scheduler.SleepFor(crash_prng.Between(1, 2 * kItemsPerProducer * kMaxThinkNs / 4));
      const int victim = static_cast<int>(crash_prng.Below(kNodeCount));
      if (completed[victim]->is_set() || !scheduler.IsAlive(nodes[victim])) continue;
      spdlog::debug("nemesis: crashing {}", scheduler.NodeName(nodes[victim]));
      scheduler.Crash(nodes[victim], "nemesis");
      ++crashes;
      scheduler.SleepFor(crash_prng.Between(1, kMaxThinkNs));
      spdlog::debug("nemesis: restarting {}", scheduler.NodeName(nodes[victim]));
      scheduler.Restart(nodes[victim], "main", node_main(victim));
    }
    for (auto& done : completed) done->Wait();
    scheduler.Stop("every node completed its pipeline");
  });

  result.run = scheduler.Run();
  scheduler.Shutdown();
  result.violation = violation;
  if (crashes > 0) result.faults_injected["crash"] = crashes;
  if (options.record_trace) {
    for (const sim::TraceEvent& event : scheduler.trace().events()) {
      absl::StrAppend(&result.trace_dump, event.Format(scheduler.NodeName(event.node)), "\n");
    }
  }
  return result;
}

Scenario DemoScenario() {
  return Scenario{
      .name = "demo",
      .description = "fiber pipelines on 3 nodes under seeded crashes and restarts; checks that "
                     "every completed incarnation consumed each item exactly once",
      .run = RunDemo,
  };
}

}  // namespace faultline::scenarios
