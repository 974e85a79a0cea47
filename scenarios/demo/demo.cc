// scenarios/demo/demo.cc — see demo.h. Written on the scenario kit: the
// world, the nodes and the coverage come from scenarios/kit; this file is
// the workload (a pipeline per node) and its checker; the nemesis is the
// kit's random crashes.
#include "scenarios/demo/demo.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/runtime/channel.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/random_crashes.h"
#include "scenarios/kit/world.h"

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
void RunPipeline(kit::World& world, int node_index) {
  sim::Scheduler& scheduler = world.scheduler();
  sim::Prng& workload = world.prng(sim::Stream::kWorkload);
  runtime::Channel<int> channel(scheduler, 1 + workload.Below(4));
  runtime::Mutex tally_mutex(scheduler);
  std::multiset<int> consumed;
  std::vector<runtime::JoinHandle> producers, consumers;
  for (int p = 0; p < kProducersPerNode; ++p) {
    producers.push_back(runtime::Spawn(scheduler, absl::StrCat("producer", p), [&, p] {
      for (int i = 0; i < kItemsPerProducer; ++i) {
        const absl::Status sent = channel.Send(p * kItemsPerProducer + i);
        if (!sent.ok()) world.Fail(absl::StrCat("send failed: ", sent.ToString()));
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
  const absl::Status verdict =
      consumed == expected
          ? absl::OkStatus()
          : absl::InternalError(absl::StrFormat("node %d: consumed %d items, expected each of %d "
                                                "exactly once",
                                                node_index, consumed.size(), expected.size()));
  world.Check(verdict, "pipeline complete", {"consumed", consumed.size()});
  spdlog::debug("pipeline complete: {} items consumed", consumed.size());
}

}  // namespace

ScenarioResult RunDemo(const ScenarioOptions& options) {
  // The world is large: keep it off the caller's (possibly fiber) stack.
  auto world = std::make_unique<kit::World>(options);
  std::vector<std::unique_ptr<kit::Node>> nodes;
  for (int n = 0; n < kNodeCount; ++n) {
    nodes.push_back(std::make_unique<kit::Node>(*world, absl::StrCat("n", n + 1)));
    kit::Node& node = *nodes.back();
    node.SetMain([&w = *world, &node, n](kit::Life) {
      RunPipeline(w, n);
      node.Finish();
    });
  }
  for (auto& node : nodes) node->Start();
  world->StartNemesis([&] {
    kit::RunRandomCrashes(*world, nodes,
                          {.max_rounds = kMaxCrashes,
                           .max_gap_ns = 2 * kItemsPerProducer * kMaxThinkNs / 4,
                           .max_down_ns = kMaxThinkNs,
                           .label = "nemesis",
                           .done_reason = "every node completed its pipeline"});
  });
  return world->Run();
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
