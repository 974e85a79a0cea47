// scenarios/checkers/api_rules.h — the promises a log's API makes about its
// calls, checked at the moment each must hold (the DurabilityChecker checks
// what a recovery returns; these check what a live log says and does).
//
// Each rule is a pure function of what the workload observed, in plain
// numbers and statuses: the checker knows nothing of the WAL's types. A
// broken promise is an absl::Status (code kInternal) worded like the
// DurabilityChecker's: "durability violated: <rule> at sequence S: ...;
// faults injected: ...". scenarios/README.md maps every promise of
// core/wal/wal.h to the rule that checks it.
//
//  durable-covers      a durability future resolved OK: the log's durable
//                      sequence already reaches its record (and so every
//                      earlier one);
//  durable-value       the future resolved to the call's last sequence;
//  future-order        when a future resolves, every future of an earlier
//                      record of the same log instance has resolved;
//  durable-monotone    durable_sequence() never goes back, never passes
//                      last_sequence();
//  batch-consecutive   AppendBatch of n records got n consecutive sequences
//                      (with nothing interleaved: the issue order checks
//                      that the next call gets last + 1);
//  flush-durable       Flush() returned OK: everything appended before the
//                      call is durable;
//  close-flushes       Close() returned OK: everything appended is durable;
//  closed-refuses      after Close(), Append and readers fail with
//                      FailedPrecondition;
//  fail-stop-health    a future failed with an I/O error: health() is not
//                      OK, and later appends fail with FailedPrecondition;
//  reader-order        a reader returns consecutive sequences from where it
//                      started;
//  reader-durable      a reader never returns a record beyond
//                      durable_sequence() at that moment;
//  reader-range        NewReader accepts every sequence in
//                      [first_sequence(), durable_sequence() + 1] and
//                      refuses those below (NotFound) and above (OutOfRange);
//  open-reads-back     after Open, reading from first_sequence() returns
//                      every record up to durable_sequence(), which equals
//                      last_sequence();
//  release-bound       Release(b) removes no record at or above b and never
//                      moves first_sequence() back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace faultline::scenarios {

class ApiRules {
 public:
  explicit ApiRules(std::function<std::string()> faults_so_far = nullptr)
      : faults_so_far_(std::move(faults_so_far)) {}

  // A durability future of a call that appended [first, last] resolved OK
  // to `value`, when the log said `durable` and `earlier_resolved` tells
  // whether every future of an earlier record had resolved.
  absl::Status FutureResolved(uint64_t last, uint64_t value, uint64_t durable,
                              bool earlier_resolved) const;
  // Two observations of the same log instance, in time order.
  absl::Status DurableMoved(uint64_t durable_before, uint64_t durable_now,
                            uint64_t last_now) const;
  absl::Status BatchAssigned(uint64_t first, uint64_t last, uint64_t count) const;
  // Flush() (or Close(): `call`) returned `status`; `last_before` was the
  // last sequence handed out before the call, `durable_after` the durable
  // sequence right after.
  absl::Status Flushed(std::string_view call, const absl::Status& status, uint64_t last_before,
                       uint64_t durable_after) const;
  // A call made after Close() returned returned `status`.
  absl::Status AfterClose(std::string_view call, const absl::Status& status) const;
  // A future of `sequence` failed with `error` while health() said `health`.
  absl::Status FutureFailed(uint64_t sequence, const absl::Status& error,
                            const absl::Status& health) const;
  // Append returned `status` although health() said `health_before` before it.
  absl::Status AppendAfterFailure(const absl::Status& health_before,
                                  const absl::Status& status) const;
  absl::Status ReaderReturned(uint64_t sequence, uint64_t expected, uint64_t durable_now) const;
  absl::Status NewReaderAnswered(uint64_t from, uint64_t first, uint64_t durable,
                                 const absl::Status& status) const;
  // After Open: the log says [first, durable], last; a reader from first
  // returned `count` records ending at `read_end` (first - 1 when none).
  absl::Status Opened(uint64_t first, uint64_t durable, uint64_t last, uint64_t count,
                      uint64_t read_end) const;
  absl::Status Released(uint64_t below, uint64_t first_before, uint64_t first_after) const;

  absl::Status Violation(std::string_view rule, uint64_t sequence, std::string_view detail) const;

 private:
  std::function<std::string()> faults_so_far_;
};

}  // namespace faultline::scenarios
