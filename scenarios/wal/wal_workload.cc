// scenarios/wal/wal_workload.cc — the WAL scenarios' workload (see
// wal_world.h): writer fibers, the checkpointer, the release an owner owes
// after a ResourceExhausted fail-stop, and the reopener that destroys the
// Wal while its flusher is parked in a slow call.
//
// An epoch is one Wal instance's share of an incarnation. Its writers stop
// touching the Wal as soon as the epoch is no longer live (the instance may
// be destroyed); a writer parked on a durability future when that happens
// stays behind as a stale writer: its acknowledgement, if one comes, is
// checked against what the log holds now (one payload per sequence).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/io/errors.h"
#include "core/wal/format.h"
#include "scenarios/wal/wal_payloads.h"
#include "scenarios/wal/wal_world.h"

namespace faultline::scenarios::wal_internal {

void WalWorld::Writer(wal::Wal* log, Epoch* epoch) {
  // The epoch's count of running writers drops when this one ends, however.
  struct Done {
    WalWorld& world;
    uint64_t epoch_id;
    ~Done() {
      if (world.live_epoch_ != epoch_id) return;
      --world.running_writers_;
      world.epoch_event_.Set();
    }
  } done{*this, epoch->id};
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  const PayloadShape shape{.max_payload_bytes = swarm_.max_payload_bytes,
                           .max_record_bytes = swarm_.wal.max_record_bytes,
                           .adversarial_one_in = swarm_.adversarial_one_in,
                           .max_size_one_in = swarm_.max_size_one_in};
  for (int i = 0; i < swarm_.records_per_writer && epoch_live(epoch->id); ++i) {
    const uint64_t next_sequence = log->last_sequence() + 1;
    const std::optional<uint32_t> known_salt =
        hooks_.payload_salt ? hooks_.payload_salt(next_sequence) : std::nullopt;
    const std::string payload = MakeWalPayload(workload, shape, next_sequence, known_salt);
    absl::StatusOr<wal::AppendResult> appended =
        hooks_.refuse_append && hooks_.refuse_append(payload, swarm_.wal)
            ? absl::InvalidArgumentError("refused by the test hook")
            : log->Append(payload);
    if (!appended.ok()) {
      // Stopped after a failure, closed, or out of sequence numbers: the
      // epoch ends. But the payload is never empty nor over
      // max_record_bytes, so InvalidArgument refuses a valid record.
      if (absl::IsInvalidArgument(appended.status())) {
        Verdict(absl::InternalError(absl::StrCat(
                    "durability violated: append-refused at sequence ", next_sequence,
                    ": a ", payload.size(), "-byte payload (max_record_bytes ",
                    swarm_.wal.max_record_bytes, ") was refused (",
                    appended.status().ToString(), "); faults injected: ",
                    world_.coverage().Summary())),
                "append");
      }
      return;
    }
    // A record appended to an instance that is no longer live (Append parked
    // meanwhile) is not one the checker tracks.
    if (!epoch_live(epoch->id)) return;
    // No park between Append's return and here: the checker learns of the
    // record before any I/O can carry it to disk.
    if (!Verdict(checker_.Issue(appended->last_sequence, payload), "issued")) return;
    const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
    if (world_.over()) return;
    const bool stale = !epoch_live(epoch->id);
    if (durable.ok()) {
      if (!Verdict(checker_.AcknowledgeRecord(*durable, payload, stale), "acknowledged")) return;
      if (stale) return;
    } else {
      ++epoch->records_failed;
      // A destroyed instance cancels its records: not a failure of the log.
      if (stale) return;
      if (!Verdict(checker_.AcknowledgeFailed(appended->last_sequence), "ack failed")) return;
      return;
    }
    if (swarm_.max_think_ns > 0) world_.scheduler().SleepFor(workload.Below(swarm_.max_think_ns));
  }
}

void WalWorld::Checkpointer(wal::Wal& log, uint64_t epoch_id) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  // Bounded by the writers' lifetime: they finish after a bounded number of
  // records, and each iteration sleeps a positive virtual time.
  while (epoch_live(epoch_id) && running_writers_ > 0) {
    world_.scheduler().SleepFor(1 + workload.Below(swarm_.release_period_ns));
    if (!epoch_live(epoch_id) || running_writers_ == 0) return;
    const uint64_t first = log.first_sequence();
    const uint64_t durable_end = log.durable_sequence() + 1;
    if (durable_end <= first) continue;
    const uint64_t below = first + workload.Below(durable_end - first + 1);
    // Tell the checker first: a crash inside Release may already have
    // removed segments.
    checker_.NoteRelease(below);
    // Cleared however Release ends, a crash inside it included: the flag
    // must not outlive this incarnation (the next one's reopener reads it).
    struct Releasing {
      bool& flag;
      explicit Releasing(bool& f) : flag(f) { flag = true; }
      ~Releasing() { flag = false; }
    };
    absl::Status released;
    {
      const Releasing releasing(releasing_);
      released = log.Release(below);
    }
    if (!released.ok() || !epoch_live(epoch_id)) return;  // a failed release stops releases
    world_.scheduler().Record(sim::TraceKind::kApp, {"below", below},
                              {"first_sequence", log.first_sequence()}, "released");
  }
}

bool WalWorld::ReleaseAfterExhaustion(wal::Wal& log) {
  // The owner's way out of max_segments: everything durable is checkpointed.
  const uint64_t below = log.durable_sequence() + 1;
  checker_.NoteRelease(below);
  world_.coverage().Count("release_after_exhaustion");
  const absl::Status released = log.Release(below);
  if (released.ok() || io::IsIoError(released) || io::IsNoSpace(released)) return true;
  return Verdict(absl::InternalError(absl::StrCat(
                     "durability violated: release-after-exhaustion at sequence ", below,
                     ": the reopened log refused Release (", released.ToString(),
                     "); faults injected: ", world_.coverage().Summary())),
                 "release after exhaustion");
}

void WalWorld::Reopener(wal::Wal& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  world_.scheduler().SleepFor(1 + workload.Below(swarm_.nemesis.time_horizon_ns));
  if (!epoch_live(epoch.id) || running_writers_ == 0 || releasing_) return;
  // Slow the node's writes or its syncs for a moment, long enough for the
  // flusher to take a batch (or rotate) and park in the slow call.
  const bool slow_writes = workload.Chance(1, 2);
  sim::disk::Latencies& latency = disk_.plan().latency;
  sim::disk::LatencyModel& slot = slow_writes ? latency.write : latency.sync;
  const sim::disk::LatencyModel saved = slot;
  slot = sim::disk::LatencyModel::Fixed(swarm_.slow_io_ns);
  world_.scheduler().SleepFor(1 + workload.Below(swarm_.slow_io_ns / 2));
  slot = saved;
  if (!epoch_live(epoch.id) || releasing_) return;
  world_.coverage().Count(slow_writes ? "slow_write_reopen" : "slow_sync_reopen");
  if (swarm_.close_while_reopening) {
    // Another fiber is inside Close() when the owner destroys the Wal.
    epoch.closed = true;
    stale.push_back(runtime::Spawn(world_.scheduler(), "closer", [this, &log, &epoch] {
      absl::Status closed = log.Close();
      if (hooks_.close_status) closed = hooks_.close_status(std::move(closed));
      epoch.close_status = std::move(closed);
    }));
    world_.scheduler().SleepFor(1);  // the closer parks in Close first
    if (!epoch_live(epoch.id)) return;
  }
  reopened_while_blocked_ = true;
  end_epoch_ = true;
  epoch_event_.Set();
}

bool WalWorld::RunEpoch(wal::Wal& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale) {
  std::vector<runtime::JoinHandle> fibers;
  running_writers_ = swarm_.writers;
  end_epoch_ = false;
  for (int w = 0; w < swarm_.writers; ++w) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), absl::StrCat("writer", w),
                                    [this, &log, &epoch] { Writer(&log, &epoch); }));
  }
  if (kind_ == WalScenarioKind::kRotationRetention) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), "checkpointer",
                                    [this, &log, id = epoch.id] { Checkpointer(log, id); }));
  }
  if (swarm_.reopen_while_blocked && !reopened_while_blocked_) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), "reopener", [this, &log, &epoch, &stale] {
      Reopener(log, epoch, stale);
    }));
  }
  // Each iteration parks once; the writers' work is bounded.
  while (running_writers_ > 0 && !end_epoch_ && !world_.over()) {
    epoch_event_.Reset();
    epoch_event_.Wait();
  }
  const bool abandon = end_epoch_ && !world_.over();
  live_epoch_ = 0;  // from now on no fiber of this epoch touches `log`
  if (abandon) {
    for (runtime::JoinHandle& fiber : fibers) stale.push_back(std::move(fiber));
    return true;
  }
  for (runtime::JoinHandle& fiber : fibers) fiber.Join();
  return false;
}

}  // namespace faultline::scenarios::wal_internal
