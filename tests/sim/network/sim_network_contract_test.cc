// tests/sim/network/sim_network_contract_test.cc — the io::Network contract
// suite (tests/core/io/network_contract.h) run against the simulated network
// with every fault off: then it must deliver like a correct network.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "sim/network/sim_network.h"
#include "sim/scheduler/scheduler.h"
#include "tests/core/io/network_contract.h"

namespace faultline::sim::net {
namespace {

class SimNetworkFactory {
 public:
  SimNetworkFactory()
      : scheduler_(SchedulerOptions{.seed = 7, .stack_size_bytes = 1024 * 1024}),
        node_(scheduler_.AddNode("n1")),
        network_(scheduler_, NetworkOptions{},
                 NetworkFaultPlan{.latency = {.default_link = LinkLatency::Uniform(1'000, 50'000)}}) {}

  io::Network& network() { return network_; }
  runtime::Executor& executor() { return scheduler_; }
  io::Address NewAddress() { return absl::StrCat("n1:", next_address_++); }

  void RunInFiber(absl::AnyInvocable<void() &&> body) {
    scheduler_.StartFiberOn(node_, "contract", std::move(body));
    const RunResult result = scheduler_.Run();
    if (!result.ok()) ADD_FAILURE() << OutcomeName(result.outcome) << ": " << result.detail;
    // Faults are off: nothing may have been injected.
    EXPECT_EQ(network_.fault_stats().ToString(), "");
  }

 private:
  Scheduler scheduler_;
  NodeId node_;
  SimNetwork network_;
  int next_address_ = 1;
};

}  // namespace
}  // namespace faultline::sim::net

INSTANTIATE_TYPED_TEST_SUITE_P(SimNetwork, NetworkContractTest,
                               ::testing::Types<faultline::sim::net::SimNetworkFactory>);
