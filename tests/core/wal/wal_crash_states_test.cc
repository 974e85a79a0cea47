// Every crash state (sim::disk::EnumerateCrashStates) of a situation the
// random crash sweeps do not reach: a process that died between a segment's
// header fdatasync and the directory sync, restarted on the same machine
// (page cache intact), then a power loss. The records acknowledged after the
// restart must survive every state.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"
#include "spdlog/spdlog.h"
#include "tests/core/wal/crash_state_util.h"
#include "tests/core/wal/steered_file_system.h"

namespace faultline::wal::testing {
namespace {

// The process dies in the directory sync that makes a new segment's name
// durable (in a rotation, or in the creation of a brand-new log); it
// restarts on the same machine and appends; then the machine loses power.
void CheckProcessDeathBeforeTheDirSync(bool in_rotation) {
  const WalOptions options = TinyOptions();
  const std::string payload(150, 'p');
  uint64_t acked = 0;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 1});
  const sim::NodeId node = scheduler.AddNode("db");
  sim::disk::SimDisk disk(scheduler);
  scheduler.StartFiberOn(node, "owner", [&] {
    io::FileSystem& raw = disk.ForNode(node);
    SteeredFileSystem steered(raw, scheduler);
    if (in_rotation) {
      auto first = Wal::Open(steered, scheduler, kCrashDir, options);
      ASSERT_TRUE(first.ok()) << first.status();
      auto one = (*first)->Append(payload);
      ASSERT_TRUE(one.ok());
      ASSERT_TRUE(one->durable.Get().ok());
      steered.KillNextSyncDir(kCrashDir);
      auto two = (*first)->Append(payload);  // rotates; the process "dies"
      ASSERT_TRUE(two.ok());
      ASSERT_TRUE(io::IsNodeDead(two->durable.Get().status())) << two->durable.Get().status();
      (void)(*first)->Close();
    } else {
      steered.KillNextSyncDir(kCrashDir);
      auto first = Wal::Open(steered, scheduler, kCrashDir, options);
      ASSERT_TRUE(io::IsNodeDead(first.status())) << first.status();
    }
    // The restarted process: same page cache, no crash in between.
    auto wal = Wal::Open(raw, scheduler, kCrashDir, options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto appended = (*wal)->Append(payload);
    ASSERT_TRUE(appended.ok());
    const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
    ASSERT_TRUE(durable.ok()) << durable.status();
    acked = *durable;
    ASSERT_TRUE((*wal)->Close().ok());
  });
  ASSERT_TRUE(scheduler.Run().ok());
  ASSERT_GT(acked, 0u);

  // Now the power goes: every state the disk may come back in.
  const sim::disk::CrashStates states = sim::disk::EnumerateCrashStates(disk, node, {});
  ASSERT_TRUE(states.complete);
  for (size_t i = 0; i < states.states.size(); ++i) {
    const Recovered recovered = RecoverFrom(states.states[i], options);
    ASSERT_TRUE(recovered.open_status.ok()) << "state " << i << ": " << recovered.open_status;
    EXPECT_TRUE(Holds(recovered.records, acked, payload))
        << "crash state " << i << " of " << states.states.size()
        << " lost acknowledged record " << acked;
  }
}

TEST(WalCrashStates, ProcessDeathInARotationsDirSyncThenPowerLoss) {
  CheckProcessDeathBeforeTheDirSync(/*in_rotation=*/true);
}

TEST(WalCrashStates, ProcessDeathInANewLogsDirSyncThenPowerLoss) {
  CheckProcessDeathBeforeTheDirSync(/*in_rotation=*/false);
}

}  // namespace
}  // namespace faultline::wal::testing
