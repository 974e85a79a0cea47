// tests/sim/disk/sim_disk_contract_test.cc — the io::FileSystem contract
// suite (tests/core/io/file_system_contract.h) run against the simulated
// disk with every fault off: without crashes, the simulated disk must behave
// exactly like a correct file system.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "tests/core/io/file_system_contract.h"

namespace faultline::sim::disk {
namespace {

class SimDiskFactory {
 public:
  SimDiskFactory()
      : scheduler_(SchedulerOptions{.seed = 7, .stack_size_bytes = 1024 * 1024}),
        node_(scheduler_.AddNode("n1")),
        disk_(scheduler_) {}

  io::FileSystem& fs() { return disk_.ForNode(node_); }
  runtime::Executor& executor() { return scheduler_; }

  void RunInFiber(absl::AnyInvocable<void() &&> body) {
    scheduler_.StartFiberOn(node_, "contract", std::move(body));
    const RunResult result = scheduler_.Run();
    if (!result.ok()) ADD_FAILURE() << OutcomeName(result.outcome) << ": " << result.detail;
    // Faults are off: nothing may have been injected.
    EXPECT_EQ(disk_.stats().ToString(), "");
  }

 private:
  Scheduler scheduler_;
  NodeId node_;
  SimDisk disk_;
};

}  // namespace
}  // namespace faultline::sim::disk

INSTANTIATE_TYPED_TEST_SUITE_P(SimDisk, FileSystemContractTest,
                               ::testing::Types<faultline::sim::disk::SimDiskFactory>);
