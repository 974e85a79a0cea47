// scenarios/wal/wal_workload.cc — the WAL scenarios' workload (see
// wal_world.h): writer fibers (Append, AppendBatch, Flush, each checked by
// the API rules at the moment its promise must hold), the checkpointer
// (Release), the release an owner owes after a ResourceExhausted
// fail-stop, and the reopener that destroys the Wal while its flusher is
// parked in a slow call.
//
// An epoch is one Wal instance's share of an incarnation. Its writers stop
// touching the Wal as soon as the epoch is no longer live (the instance may
// be destroyed); a writer parked on a durability future when that happens
// stays behind as a stale writer: its acknowledgement, if one comes, is
// checked against what the log holds now (one payload per sequence).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/io/errors.h"
#include "core/wal/format.h"
#include "scenarios/wal/wal_payloads.h"
#include "scenarios/wal/wal_world.h"

namespace faultline::scenarios::wal_internal {

void WalWorld::Writer(LogApi* log, Epoch* epoch) {
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
  for (int i = 0; i < swarm_.records_per_writer && epoch_live(epoch->id); ++i) {
    const bool batch = swarm_.batch_one_in > 0 && workload.Chance(1, swarm_.batch_one_in);
    if (!AppendAndWait(log, epoch, batch)) return;
    if (swarm_.max_think_ns > 0) world_.scheduler().SleepFor(workload.Below(swarm_.max_think_ns));
  }
}

namespace {

// The payloads of one call: one, or up to max_batch_records + 2 (so that
// batches straddle the batch record bound; their sizes straddle the byte
// bound and the segment size) within what one call may queue.
std::vector<std::string> DrawPayloads(sim::Prng& workload, const WalSwarm& swarm,
                                      const WalScenarioHooks& hooks, uint64_t next_sequence,
                                      bool batch) {
  const PayloadShape shape{.max_payload_bytes = swarm.max_payload_bytes,
                           .max_record_bytes = swarm.wal.max_record_bytes,
                           .adversarial_one_in = swarm.adversarial_one_in,
                           .max_size_one_in = swarm.max_size_one_in};
  const uint64_t most =
      batch ? std::min<uint64_t>(swarm.wal.max_batch_records + 2, swarm.wal.max_queued_records)
            : 1;
  const uint64_t count = batch ? workload.Between(1, static_cast<int64_t>(most)) : 1;
  std::vector<std::string> payloads;
  uint64_t total_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const std::optional<uint32_t> known_salt =
        hooks.payload_salt ? hooks.payload_salt(next_sequence + i) : std::nullopt;
    std::string payload = MakeWalPayload(workload, shape, next_sequence + i, known_salt);
    if (total_bytes + payload.size() > swarm.wal.max_queued_bytes) break;
    total_bytes += payload.size();
    payloads.push_back(std::move(payload));
  }
  return payloads;
}

}  // namespace

bool WalWorld::AppendAndWait(LogApi* log, Epoch* epoch, bool batch) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  const uint64_t next_sequence = log->last_sequence() + 1;
  const std::vector<std::string> payloads =
      DrawPayloads(workload, swarm_, hooks_, next_sequence, batch);
  const std::vector<std::string_view> views(payloads.begin(), payloads.end());
  bool refused = false;
  for (std::string_view payload : views) {
    refused = refused || (hooks_.refuse_append && hooks_.refuse_append(payload, swarm_.wal));
  }
  const absl::Status health_before = log->health();
  const bool closed_before = epoch->close_returned;
  const std::string_view call = batch ? "AppendBatch" : "Append";
  absl::StatusOr<wal::AppendResult> appended =
      refused ? absl::InvalidArgumentError("refused by the test hook")
      : batch ? log->AppendBatch(views)
              : log->Append(views[0]);
  // A call to an instance that is no longer live (it parked meanwhile) is
  // not one the checker tracks.
  if (!epoch_live(epoch->id)) return false;
  if (closed_before && !Verdict(rules_.AfterClose(call, appended.status()), "append after close")) {
    return false;
  }
  if (!Verdict(rules_.AppendAfterFailure(health_before, appended.status()), "append")) return false;
  if (!appended.ok()) {
    // Stopped after a failure, closed, or out of sequence numbers: the
    // epoch ends. But no payload is empty nor over max_record_bytes, and the
    // call fits the queue: InvalidArgument refuses valid records.
    if (absl::IsInvalidArgument(appended.status())) {
      Verdict(absl::InternalError(absl::StrCat(
                  "durability violated: append-refused at sequence ", next_sequence, ": ",
                  AsAbsl(call), " of ", payloads.size(), " records (the last ",
                  payloads.back().size(), " bytes, max_record_bytes ",
                  swarm_.wal.max_record_bytes, ") was refused (", appended.status().ToString(),
                  "); faults injected: ", world_.coverage().Summary())),
              "append");
    }
    return false;
  }
  if (batch && !Verdict(rules_.BatchAssigned(appended->first_sequence, appended->last_sequence,
                                             payloads.size()),
                        "batch")) {
    return false;
  }
  // No park between the call's return and here: the checker learns of the
  // records before any I/O can carry them to disk.
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (!Verdict(checker_.Issue(appended->first_sequence + i, payloads[i]), "issued")) return false;
  }
  epoch->pending.emplace(appended->last_sequence, appended->durable);
  if (swarm_.flush_one_in > 0 && workload.Chance(1, swarm_.flush_one_in)) {
    FlushAndCheck(*log, *epoch);
    if (!epoch_live(epoch->id)) return false;
  }
  return AwaitDurable(log, epoch, *appended, payloads.back());
}

bool WalWorld::AwaitDurable(LogApi* log, Epoch* epoch, wal::AppendResult& appended,
                            std::string_view last_payload) {
  const absl::StatusOr<uint64_t>& durable = appended.durable.Get();
  if (world_.over()) return false;
  const bool stale = !epoch_live(epoch->id);
  if (!durable.ok()) {
    ++epoch->records_failed;
    epoch->pending.erase(appended.last_sequence);
    // A destroyed instance cancels its records: not a failure of the log.
    if (stale) return false;
    if (!Verdict(rules_.FutureFailed(appended.last_sequence, durable.status(), log->health()),
                 "future failed")) {
      return false;
    }
    Verdict(checker_.AcknowledgeFailed(appended.last_sequence), "ack failed");
    return false;
  }
  if (!stale && !CheckResolved(*log, *epoch, appended, durable)) return false;
  epoch->pending.erase(appended.last_sequence);
  return Verdict(checker_.AcknowledgeRecord(*durable, last_payload, stale), "acknowledged") &&
         !stale;
}

bool WalWorld::CheckResolved(LogApi& log, Epoch& epoch, const wal::AppendResult& appended,
                             const absl::StatusOr<uint64_t>& durable) {
  // Bounded by the calls of the epoch still waiting to be seen resolved.
  bool earlier_resolved = true;
  for (auto it = epoch.pending.begin();
       it != epoch.pending.end() && it->first < appended.last_sequence; ++it) {
    earlier_resolved = earlier_resolved && it->second.ready();
  }
  return ObserveDurable(log, epoch) &&
         Verdict(rules_.FutureResolved(appended.last_sequence, *durable, log.durable_sequence(),
                                       earlier_resolved),
                 "durable future");
}

bool WalWorld::ObserveDurable(LogApi& log, Epoch& epoch) {
  const uint64_t durable = log.durable_sequence();
  const bool ok =
      Verdict(rules_.DurableMoved(epoch.durable_seen, durable, log.last_sequence()), "durable");
  epoch.durable_seen = std::max(epoch.durable_seen, durable);
  return ok;
}

void WalWorld::FlushAndCheck(LogApi& log, Epoch& epoch) {
  const uint64_t last_before = log.last_sequence();
  const bool closed_before = epoch.close_returned;
  const absl::Status flushed = log.Flush();
  if (!epoch_live(epoch.id)) return;
  if (closed_before && !Verdict(rules_.AfterClose("Flush", flushed), "flush after close")) return;
  if (!Verdict(rules_.Flushed("Flush", flushed, last_before, log.durable_sequence()), "flush")) {
    return;
  }
  ObserveDurable(log, epoch);
}

void WalWorld::Checkpointer(LogApi& log, uint64_t epoch_id) {
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
    const uint64_t first_before = log.first_sequence();
    absl::Status released;
    {
      const Releasing releasing(releasing_);
      released = log.Release(below);
    }
    if (!released.ok() || !epoch_live(epoch_id)) return;  // a failed release stops releases
    if (!Verdict(rules_.Released(below, first_before, log.first_sequence()), "release")) return;
    world_.scheduler().Record(sim::TraceKind::kApp, {"below", below},
                              {"first_sequence", log.first_sequence()}, "released");
  }
}

bool WalWorld::ReleaseAfterExhaustion(LogApi& log) {
  // The owner's way out of max_segments: everything durable is checkpointed.
  const uint64_t below = log.durable_sequence() + 1;
  checker_.NoteRelease(below);
  world_.coverage().Count("release_after_exhaustion");
  const uint64_t first_before = log.first_sequence();
  const absl::Status released = log.Release(below);
  if (released.ok()) return Verdict(rules_.Released(below, first_before, log.first_sequence()), "release");
  if ( io::IsIoError(released) || io::IsNoSpace(released)) return true;
  return Verdict(absl::InternalError(absl::StrCat(
                     "durability violated: release-after-exhaustion at sequence ", below,
                     ": the reopened log refused Release (", released.ToString(),
                     "); faults injected: ", world_.coverage().Summary())),
                 "release after exhaustion");
}

void WalWorld::Reopener(LogApi& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale) {
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

bool WalWorld::RunEpoch(LogApi& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale) {
  std::vector<runtime::JoinHandle> fibers;
  running_writers_ = swarm_.writers;
  end_epoch_ = false;
  for (int w = 0; w < swarm_.writers; ++w) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), absl::StrCat("writer", w),
                                    [this, &log, &epoch] { Writer(&log, &epoch); }));
  }
  epoch.durable_seen = log.durable_sequence();
  if (swarm_.checkpointer) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), "checkpointer",
                                    [this, &log, id = epoch.id] { Checkpointer(log, id); }));
  }
  for (int t = 0; t < swarm_.tailers; ++t) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), absl::StrCat("tailer", t),
                                    [this, &log, &epoch] { Tailer(log, epoch); }));
  }
  if (swarm_.close_mid_epoch) {
    fibers.push_back(runtime::Spawn(world_.scheduler(), "closer",
                                    [this, &log, &epoch] { Closer(log, epoch); }));
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
