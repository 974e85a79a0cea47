// tests/sim/network/net_test_world.h — a scheduler with three nodes and one
// SimNetwork for the network's unit tests, and helpers that run a fiber on
// a node to completion (endpoints belong to the node that listens).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/io/clock.h"
#include "sim/network/sim_network.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::net::testing {

inline constexpr int64_t kMs = io::kNanosPerMilli;

struct Arrival {
  io::Message message;
  int64_t at_ns = 0;
};

struct NetWorld {
  explicit NetWorld(NetworkFaultPlan plan = {}, NetworkOptions options = {}, uint64_t seed = 1)
      : scheduler(SchedulerOptions{.seed = seed, .stack_size_bytes = 256 * 1024,
                                   .record_trace = true}),
        n1(scheduler.AddNode("n1")),
        n2(scheduler.AddNode("n2")),
        n3(scheduler.AddNode("n3")),
        network(scheduler, options, std::move(plan)) {}

  // Runs `body` as a fiber on `node` until every fiber has finished.
  void On(NodeId node, absl::AnyInvocable<void() &&> body) {
    scheduler.StartFiberOn(node, "test", std::move(body));
    const RunResult result = scheduler.Run();
    EXPECT_TRUE(result.ok()) << OutcomeName(result.outcome) << ": " << result.detail;
  }

  std::unique_ptr<io::Endpoint> Listen(NodeId node, const io::Address& address) {
    std::unique_ptr<io::Endpoint> endpoint;
    On(node, [&] {
      auto listened = network.Listen(address);
      EXPECT_TRUE(listened.ok()) << listened.status();
      if (listened.ok()) endpoint = std::move(*listened);
    });
    return endpoint;
  }

  // Lets virtual time pass: a fiber on the simulator's node sleeps.
  void Advance(int64_t duration_ns) {
    On(kSimNode, [&] { scheduler.SleepFor(duration_ns); });
  }

  // Receives on `endpoint` (owned by `node`) until nothing arrives for
  // `quiet_ns`; each message with the virtual time it was taken.
  std::vector<Arrival> Drain(NodeId node, io::Endpoint& endpoint, int64_t quiet_ns = 100 * kMs) {
    std::vector<Arrival> arrivals;
    On(node, [&] {
      for (int i = 0; i < 10'000; ++i) {
        auto message = endpoint.Receive(quiet_ns);
        if (!message.ok()) return;
        arrivals.push_back({std::move(*message), scheduler.NowNs()});
      }
    });
    return arrivals;
  }

  static std::vector<std::string> Payloads(const std::vector<Arrival>& arrivals) {
    std::vector<std::string> payloads;
    for (const Arrival& arrival : arrivals) payloads.push_back(arrival.message.payload);
    return payloads;
  }

  Scheduler scheduler;
  NodeId n1, n2, n3;
  SimNetwork network;
};

}  // namespace faultline::sim::net::testing
