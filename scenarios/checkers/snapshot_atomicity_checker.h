// scenarios/checkers/snapshot_atomicity_checker.h — the snapshot-atomicity
// checker for a state machine recovered from snapshots plus a log (the
// journal).
//
// The checker is a model of every state the machine may legally come back
// in. The workload issues records one at a time, in sequence order, and
// tells the checker the digest of the model's state after each one
// (StateDigest below), every acknowledgement, and every file it damaged on
// purpose. After each recovery the scenario hands over the sequence the
// recovered state claims to cover and the digest of the recovered state:
//
//  durability  k >= last_acked: nothing acknowledged is missing;
//  no phantom  k <= last_issued;
//  atomicity   the state equals the model's state after exactly k records —
//              never an old snapshot with a missing log suffix, a snapshot
//              with records applied twice, or a state the model never had
//              (the message says which model state, if any, it equals);
//  clean error recovery fails only when the workload damaged a file on
//              purpose, with DataLoss or an I/O error whose message names
//              one of the damaged files;
//  fallback    and never when the workload said an older state was kept
//              (an older snapshot, or none, plus the log's records after
//              it): recovery must then come back with the state.
//
// After a successful check the checker REBASES: records issued past k are
// gone for good (their sequence numbers will be handed out again), and the
// first k count as acknowledged (recovery made them durable).
//
// A violation is an absl::Status (kInternal) naming the invariant, the
// sequences and the faults injected so far (from the owner's callback).
// Knows nothing of the journal's types. Memory: one digest per record issued
// and kept.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace faultline::scenarios {

// An order-independent 64-bit digest of a key-value state: the sum (mod
// 2^64) of a mixed hash of each (key, value) pair, so a put or a delete
// updates it in O(1) and two states with the same entries have the same
// digest whatever order they were built in.
class StateDigest {
 public:
  void Add(std::string_view key, std::string_view value) { sum_ += EntryHash(key, value); }
  void Remove(std::string_view key, std::string_view value) { sum_ -= EntryHash(key, value); }
  uint64_t value() const { return sum_; }

  static uint64_t EntryHash(std::string_view key, std::string_view value);

 private:
  uint64_t sum_ = 0;
};

class SnapshotAtomicityChecker {
 public:
  // `faults_summary` describes the faults injected so far (for messages).
  explicit SnapshotAtomicityChecker(std::function<std::string()> faults_summary);

  // Record `sequence` (== last_issued() + 1) was issued; the model's state
  // digest after it is `digest_after`.
  absl::Status Issue(uint64_t sequence, uint64_t digest_after);
  // Records up to `sequence` are acknowledged as durable (monotone).
  absl::Status Acknowledge(uint64_t sequence);
  // The workload damaged `file` on purpose (a path as errors name it).
  // `older_state_kept`: an older snapshot (or none) and the log's records
  // after it still hold every acknowledged record, so a recovery error is a
  // violation rather than a clean report of the damage.
  void NoteDamage(std::string file, bool older_state_kept = false) {
    damaged_.insert(std::move(file));
    older_state_kept_ = older_state_kept_ || older_state_kept;
  }
  bool damage_noted() const { return !damaged_.empty(); }

  // A recovery came back with the state after `sequence` records, whose
  // digest is `digest`. Rebases on success.
  absl::Status CheckRecovered(uint64_t sequence, uint64_t digest);
  // A recovery failed with `error`.
  absl::Status CheckRecoveryError(const absl::Status& error) const;

  uint64_t last_acked() const { return last_acked_; }
  uint64_t last_issued() const { return digests_.size() - 1; }

 private:
  absl::Status Violation(std::string_view invariant, std::string_view detail) const;

  std::function<std::string()> faults_summary_;
  std::vector<uint64_t> digests_;  // [k]: the model's digest after k records; [0]: empty
  uint64_t last_acked_ = 0;
  std::set<std::string> damaged_;
  bool older_state_kept_ = false;
};

}  // namespace faultline::scenarios
