// scenarios/checkers/durability_checker.h — the durability checker for a log that
// survives crashes (the WAL today, the journal's log later).
//
// The checker is a model of what the log promised. The workload tells it
// every record it issued (sequence → payload), every acknowledgement of
// durability it received, every release of a prefix and every corruption it
// injected on purpose; after each recovery the scenario hands it the log
// that came back, and the checker decides whether that log is one the
// promises allow:
//
//  prefix        the recovered log is records[first..k), contiguous, in
//                order, with last_acked <= k <= last_issued;
//  retained      every record from the retained start (the highest Release
//                bound, or the first sequence ever issued) up to last_acked
//                is there: a released prefix may vanish, nothing else;
//  no corrupt    each recovered payload is byte-equal to the one issued at
//                that sequence;
//  no phantom    no recovered sequence was never issued (nor does an empty
//                log start past the issued ones);
//  no duplicate  no sequence appears twice;
//  idempotent    recovering again (a reopen) gives the same log;
//  fail-stop     no record is acknowledged at or after a sequence whose
//                durability future failed (nothing acknowledged after EIO);
//  one payload   a sequence is acknowledged for one payload only, across
//  per sequence  incarnations and in-process reopens: an acknowledgement
//                that arrives from a Wal the owner destroyed and replaced
//                must be for the record the log now holds at that sequence;
//  honest close  Close() does not report OK while records it was flushing
//                failed (were cancelled);
//  clean error   recovery fails only when the workload damaged durable
//                records on purpose, and then only with DataLoss naming
//                the damaged file and the byte offset where the damage
//                begins (or FailedPrecondition, naming the file, when the
//                damage hit the header's version field);
//  reader        a record a live reader returns is the one issued at its
//                sequence.
//
// A violation is an absl::Status (code kInternal) whose message names the
// invariant, the sequence involved, the trace events that matter when the
// owner gave TraceHooks ("trace events: #169 acknowledged sequence 12, #185
// the crash that lost it") and the faults injected so far (from a callback
// the owner provides, e.g. "crash=3 torn_write=2"):
//
//   durability violated: <invariant> at sequence <s>: <detail>[; trace
//   events: <pointers>]; faults injected: <faults>
//
// After a successful recovery check the checker REBASES: records issued past
// the recovered end are gone for good and the log will hand out their
// sequence numbers again, so it forgets them; and the recovered records count
// as acknowledged, because Wal::Open makes the log it recovered durable
// before it returns.
//
// The checker knows nothing about the WAL's types or files: it is fed plain
// sequence numbers and bytes. Not thread-safe (nothing in the simulation is).
// Memory: one copy of every payload issued and kept (bounded by what the
// workload issues in one run).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace faultline::scenarios {

// One record as a recovery returned it.
struct LogRecord {
  uint64_t sequence = 0;
  std::string payload;
};

// Damage the workload injected on purpose into a durable record or header.
struct DeliberateDamage {
  uint64_t sequence = 0;      // the first record the damage makes unreadable (>= 1)
  std::string file;           // the damaged file's name, which an error must name
  uint64_t offset_bytes = 0;  // where the damaged frame or header starts, ditto
  // The damage may make the header claim another format version: then
  // FailedPrecondition (naming the file) is a clean refusal too.
  bool in_version_field = false;
  // The device damaged the log where no one can say (a misdirected write:
  // the bytes landed unseen): any DataLoss, or FailedPrecondition, is then
  // a clean refusal. Deliberate damage always knows its place.
  bool place_unknown = false;
};

class DurabilityChecker {
 public:
  // `first_sequence` is the sequence number of the first record the log
  // will ever hand out (WalOptions::initial_sequence), >= 1.
  // `faults_so_far` describes the faults injected until now (e.g.
  // "crash=3 torn_write=2"); it is called only to word a violation.
  explicit DurabilityChecker(uint64_t first_sequence,
                             std::function<std::string()> faults_so_far = nullptr);

  // Where the run's trace is, so that a verdict points at the events behind
  // it: the one that acknowledged a lost record, the crashes that may have
  // lost it. The checker stays ignorant of the trace's types: it only notes
  // event numbers.
  struct TraceHooks {
    // The index the next trace event will get. Contract: the owner records
    // the verdict of each checker call as that event (a passing Acknowledge
    // is the event that acknowledged).
    std::function<uint64_t()> next_event;
    // The indexes of the checked node's crash events after index `after`,
    // oldest first.
    std::function<std::vector<uint64_t>(uint64_t after)> crashes_since;
  };
  // Optional; call before the first record is issued.
  void set_trace_hooks(TraceHooks hooks);

  // The log assigned `sequence` to `payload`. Sequences must arrive in
  // order, one after the other (the WAL assigns them in append order and
  // the workload reports each before it parks again); anything else is a
  // violation (the log handed out a wrong number).
  absl::Status Issue(uint64_t sequence, std::string_view payload);

  // The log acknowledged `sequence` (and so every record before it) as
  // durable. Violation: the sequence was never issued, or it is at or after
  // a sequence whose future failed (fail-stop).
  absl::Status Acknowledge(uint64_t sequence);

  // The log acknowledged the record the workload issued as (`sequence`,
  // `payload`). `stale`: the acknowledgement comes from a log instance the
  // owner has destroyed and reopened since (in the same process), whose
  // records a recovery checked meanwhile. Violation (besides Acknowledge's):
  // the payload is not the one issued, and kept, at that sequence.
  absl::Status AcknowledgeRecord(uint64_t sequence, std::string_view payload, bool stale);

  // Close() of a log instance returned `close` while `records_failed` of the
  // records it was flushing had failed. Violation: OK although some failed.
  absl::Status CheckClose(const absl::Status& close, uint64_t records_failed) const;

  // The durability future of `sequence` failed. Violation: `sequence` had
  // already been acknowledged (directly or through a later record).
  absl::Status AcknowledgeFailed(uint64_t sequence);

  // The workload asked the log to release everything below `below_sequence`
  // (Wal::Release): those records may be absent from later recoveries.
  void NoteRelease(uint64_t below_sequence);

  // The workload deliberately damaged a durable record or header: from now
  // on a recovery may fail with DataLoss naming it (the log detected it) —
  // but it still may not return a corrupt record or lose an acknowledged one.
  void NoteCorruption(DeliberateDamage damage);

  // A live reader returned (`sequence`, `payload`). Violation: not the
  // payload issued at that sequence, or a sequence never issued.
  absl::Status CheckRead(uint64_t sequence, std::string_view payload) const;

  // A fault the log cannot see (a misdirected write) may have taken records
  // after `last_vouched`: no record the device holds proves they were ever
  // durable (no later frame's durable watermark covers them), so the log
  // cannot tell their loss from a torn batch that was never acknowledged.
  // The next recovery may end anywhere from `last_vouched` on, even before
  // last_acked(), and so may a reopen end before the recovery it repeats
  // (that recovery read the records from the cache); once a recovery is
  // checked, the excuse is spent.
  void ExcuseUnprovableLoss(uint64_t last_vouched);

  // Checks the log a recovery returned: `first_sequence` is the log's
  // retained start (Wal::first_sequence()) and `records` what reading from
  // it returned, in order. On success, rebases (see the file comment) and
  // remembers the log for CheckReopen.
  absl::Status CheckRecovery(uint64_t first_sequence, absl::Span<const LogRecord> records);

  // Checks the log a second recovery returned, with no appends in between:
  // it must equal the one the last CheckRecovery accepted.
  absl::Status CheckReopen(uint64_t first_sequence, absl::Span<const LogRecord> records);

  // Checks a recovery (or a read) that failed with `error`. OK only after a
  // NoteCorruption, for a DataLoss whose message names the damaged file and
  // "offset N" of the damage, or a FailedPrecondition naming the file when
  // the version field was hit (the log refused the damage instead of hiding
  // it, and told the operator where it is).
  absl::Status CheckRecoveryError(const absl::Status& error) const;
  // Whether `error` is the refusal CheckRecoveryError accepts.
  bool NamesTheDamage(const absl::Status& error) const;

  // --- the model, for scenarios and tests ----------------------------------
  uint64_t base_sequence() const { return base_sequence_; }
  // The last sequence issued and not forgotten by a rebase (base - 1 if none).
  uint64_t last_issued() const { return base_sequence_ + issued_.size() - 1; }
  // Every record <= last_acked() must survive (base - 1 if none).
  uint64_t last_acked() const { return last_acked_; }
  // Records below this may have been released.
  uint64_t retained_start() const;
  uint64_t recoveries_checked() const { return recoveries_checked_; }
  bool corruption_noted() const { return damage_.sequence != 0; }
  const DeliberateDamage& damage() const { return damage_; }

 private:
  // The checks shared by CheckRecovery and CheckReopen; sets *end_sequence
  // to the last recovered sequence (first_sequence - 1 for an empty log).
  absl::Status CheckLog(uint64_t first_sequence, absl::Span<const LogRecord> records,
                        uint64_t* end_sequence) const;
  // A violation of `invariant` at `sequence`, with the trace events
  // `pointers` names (if any) and the faults so far.
  absl::Status Violation(std::string_view invariant, uint64_t sequence, std::string_view detail,
                         std::string_view pointers = {}) const;
  // Notes the event at which last_acked_ rises to `sequence` (a no-op
  // without trace hooks or when it does not rise).
  void NoteAckEvent(uint64_t sequence, bool recovered);
  // "#17 acknowledged sequence 4, #25 the crash that lost it": where
  // acknowledged `sequence` was acknowledged and the crashes since (or
  // since the last recovery that kept it). Empty without trace hooks.
  std::string LossPointers(uint64_t sequence) const;
  // "#33 the last crash" (since the last recovery check that passed).
  std::string LastCrashPointer() const;

  const uint64_t base_sequence_;
  const std::function<std::string()> faults_so_far_;
  std::deque<std::string> issued_;  // issued_[s - base_sequence_] is record s's payload
  uint64_t last_acked_;
  // The lowest sequence whose future failed since the last recovery; 0: none.
  uint64_t first_failed_ = 0;
  uint64_t released_below_ = 0;
  DeliberateDamage damage_;  // sequence 0: no deliberate corruption
  // ExcuseUnprovableLoss's bound for the next recovery.
  bool unprovable_excused_ = false;
  uint64_t unprovable_after_ = 0;
  // The log the last CheckRecovery accepted.
  bool have_recovered_ = false;
  uint64_t recovered_first_ = 0;
  uint64_t recovered_end_ = 0;
  uint64_t recoveries_checked_ = 0;
  // --- trace pointers (with TraceHooks only) ---
  TraceHooks trace_hooks_;
  struct AckEvent {
    uint64_t up_to_sequence = 0;  // last_acked_ rose to this...
    uint64_t event = 0;           // ...at this trace event
    bool recovered = false;       // by a recovery (which makes what it returns durable)
  };
  std::vector<AckEvent> ack_events_;  // ascending in both sequence and event
  uint64_t recovered_event_ = 0;      // the last recovery or reopen check that passed
  uint64_t failed_event_ = 0;         // where first_failed_ was noted
};

}  // namespace faultline::scenarios
