// scenarios/checkers/replication_checker.h — the replication checkers:
// gap-free apply, committed => never lost, byte equality with the leader.
//
// It knows nothing of the code under test: a scenario feeds it what it
// observes — each replica's recovered position after a (re)start, each entry
// a follower applied, each durable position a replica's log claimed, each
// entry the leader reported committed, and the logs read back at the end —
// and it answers with a Status naming the replica, the sequence and what was
// wrong. Replica 0 is the leader.
//
// The invariants:
//  * Gap-free apply: a follower's applies, across its incarnations, are
//    exactly r+1, r+2, ... from the position r its log recovered to; no
//    gap, no repeat. An entry applied again at a sequence (after a crash
//    lost it) carries the same bytes as before.
//  * Durable claims bind: a replica recovers at least what its log claimed
//    durable before the crash.
//  * Committed => on a majority: whenever an entry is reported committed,
//    and after every recovery, the committed prefix is within what a
//    majority of replicas' logs claimed durable (so a crash of any minority
//    cannot lose it). A committed sequence never changes its bytes.
//  * At the end (healed): every committed entry is on every replica, and
//    every replica's log, and every entry a follower ever applied, is
//    byte-equal to the leader's log at that sequence.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace faultline::scenarios::checkers {

class ReplicationChecker {
 public:
  // `names` name the replicas in violations; names[0] is the leader's.
  explicit ReplicationChecker(std::vector<std::string> names);

  // A replica's incarnation recovered its log through `durable`.
  absl::Status OnRecovered(int replica, uint64_t durable);
  // The replica's log claims everything through `durable` durable.
  void OnDurableClaim(int replica, uint64_t durable);
  // A follower applied (handed to its log) `payload` at `sequence`.
  absl::Status OnApply(int replica, uint64_t sequence, std::string_view payload);
  // The leader reported `sequence` committed with these bytes.
  absl::Status OnCommitted(uint64_t sequence, std::string_view payload);
  // Committed prefix within a majority's durable claims (see above).
  absl::Status CheckMajorityHolds() const;

  // End of the run: each replica's log as read back, entry s at [s - 1].
  absl::Status CheckFinalLogs(const std::vector<std::vector<std::string>>& logs) const;

  uint64_t committed_through() const { return committed_through_; }
  uint64_t durable_claim(int replica) const { return claims_[replica]; }
  uint64_t applies() const { return applies_; }

 private:
  const std::vector<std::string> names_;
  std::vector<uint64_t> claims_;       // max durable position each log claimed
  std::vector<uint64_t> next_apply_;   // per follower: the sequence its next apply must have
  std::vector<std::map<uint64_t, std::string>> applied_;  // per replica: bytes applied at s
  std::map<uint64_t, std::string> committed_;             // sequence -> bytes
  uint64_t committed_through_ = 0;
  uint64_t applies_ = 0;
};

}  // namespace faultline::scenarios::checkers
