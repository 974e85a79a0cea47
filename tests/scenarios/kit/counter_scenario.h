// tests/scenarios/kit/counter_scenario.h — the smallest storage scenario on
// the kit, the example scenarios/README.md walks through.
//
// Workload: one node appends numbered 8-byte records to a file, syncing
// each before counting it acknowledged. Faults: the swarm's disk (torn and
// lost unsynced writes, latency) and the crash-round nemesis (crashes at a
// random time, in the middle of a sync, inside a recovery). Checker: every
// recovery finds at least the records acknowledged so far, in order.
//
// `ack_before_sync` turns it into a buggy program (acknowledges before the
// sync), which the checker must catch.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "scenarios/kit/crash_rounds.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"

namespace faultline::scenarios::kit::example {

constexpr CrashMoment kCounterMoments[] = {
    {"crash_at_time"},
    {"crash_mid_sync", ArmedOps::kFileSync, 3, 2},
};
constexpr int kRecordsPerIncarnation = 12;
constexpr uint64_t kMagic = 0x5eed'0000'0000'0000;

class CounterWorld {
 public:
  CounterWorld(const ScenarioOptions& options, bool ack_before_sync)
      : ack_before_sync_(ack_before_sync),
        world_(options),
        swarm_(DrawDiskSwarm(world_.prng(sim::Stream::kSwarm))),
        disk_(world_.scheduler(), swarm_.disk, swarm_.plan),
        node_(world_, "n1") {
    plan_.moments = DrawMoments(world_.prng(sim::Stream::kSwarm), kCounterMoments);
    plan_.crash_in_recovery = world_.prng(sim::Stream::kSwarm).Chance(1, 2);
    plan_.rounds = static_cast<int>(world_.prng(sim::Stream::kCrash).Between(1, 4));
    plan_.time_horizon_ns = 200'000;
    world_.coverage().WatchDisk(disk_);
    node_.AttachDisk(disk_, swarm_.tear_last_write_ppm);
    node_.SetMain([this](Life life) { Main(life); });
  }

  ScenarioResult Run() {
    node_.Start();
    world_.StartNemesis([this] {
      RunCrashRounds(world_, node_, plan_, [this] { StopInjectedFaults(disk_); });
    });
    return world_.Run();
  }

 private:
  // One incarnation: recover (check), then append and acknowledge.
  void Main(Life life) {
    std::unique_ptr<io::File> file;
    uint64_t count = 0;
    {
      Node::RecoveryScope recovering(node_);
      io::FileSystem& fs = node_.FileSystem();
      auto opened = fs.Open("counter", io::OpenMode::kCreate);
      if (!opened.ok() || !fs.SyncDir("").ok()) return world_.Fail("open failed");
      file = *std::move(opened);
      count = CountValidRecords(*file);
      const absl::Status verdict =
          count >= acked_ ? absl::OkStatus()
                          : absl::InternalError(absl::StrCat("lost acknowledged record ", count,
                                                             "; faults: ", world_.coverage().Summary()));
      if (!world_.Check(verdict, "recovered", {"count", count}, {"acked", acked_})) return;
    }
    if (life == Life::kVerify) node_.NoteVerified();
    for (int i = 0; life == Life::kWork && i < kRecordsPerIncarnation && !world_.over(); ++i) {
      const uint64_t value = kMagic + count;
      char bytes[8];
      std::memcpy(bytes, &value, sizeof(bytes));
      if (!file->WriteAt(count * 8, absl::MakeConstSpan(bytes, 8)).ok()) break;
      ++count;
      if (ack_before_sync_) acked_ = count;
      if (!file->Sync().ok()) break;
      acked_ = count;
    }
    node_.Finish();
  }

  // The records 0, 1, 2, ... that read back intact, up to the first that
  // does not.
  static uint64_t CountValidRecords(io::File& file) {
    uint64_t count = 0;
    char bytes[8];
    for (; count < 1'000'000; ++count) {  // bounded: a run writes far fewer
      auto read = file.ReadAt(count * 8, absl::MakeSpan(bytes, 8));
      uint64_t value = 0;
      std::memcpy(&value, bytes, sizeof(value));
      if (!read.ok() || *read != 8 || value != kMagic + count) break;
    }
    return count;
  }

  const bool ack_before_sync_;
  World world_;
  const DiskSwarm swarm_;
  sim::disk::SimDisk disk_;
  Node node_;
  CrashRoundsPlan plan_;
  uint64_t acked_ = 0;  // records acknowledged durable, over every incarnation
};

inline ScenarioResult RunCounter(const ScenarioOptions& options, bool ack_before_sync = false) {
  return std::make_unique<CounterWorld>(options, ack_before_sync)->Run();
}

}  // namespace faultline::scenarios::kit::example
