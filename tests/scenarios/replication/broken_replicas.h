// tests/scenarios/replication/broken_replicas.h — deliberately broken
// replicas, living only in tests, for the proof that the replication
// checkers bite.
//
// The seam is io::Endpoint (ReplHooks::wrap_endpoint): each broken replica
// is the production Leader or Follower behind a decorator of its endpoint
// that rewrites or adds frames (re-encoded with the real codec, so they pass
// its checksum) so that the replica as a whole behaves as the broken design
// would. Production code and its assertions are untouched: e.g. the
// follower's check that its WAL numbers an entry as the leader did cannot
// fire, because the decorator hands the follower an Append that starts
// where its log ends, which is what an applier without the gap check (or one
// that re-applies an overlap) does with the batch it received.
//
//   apply_without_gap_check  an Append that starts past the follower's log
//                            end is applied at its log end anyway;
//   reapply_overlap          an Append that overlaps the follower's log is
//                            applied whole from its log end (the overlapping
//                            prefix applied again);
//   ack_before_sync          the follower acknowledges an Append it will
//                            take on arrival, before its WAL synced it;
//   stale_ack_counted        the leader counts an acknowledgement, stale or
//                            not, as acknowledging the newest batch it sent
//                            that follower (acks matched to batches by
//                            arrival rather than by the position they name);
//   no_retransmit            the leader never sends a batch again (a lost
//                            one is lost for good): liveness must catch it;
//   swallow_undecodable      the follower drops a frame that fails to decode
//                            without counting it: the corruption accounting
//                            must catch it.
// Otherwise corrupted frames pass through unchanged: the replica's codec
// rejects them as before, so the corruption accounting stays exact.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "core/io/network.h"
#include "core/replication/wire.h"
#include "scenarios/replication/repl_scenarios.h"

namespace faultline::scenarios::testing {

enum class BrokenReplica : uint8_t {
  kApplyWithoutGapCheck,
  kReapplyOverlap,
  kAckBeforeSync,
  kStaleAckCounted,
  kNoRetransmit,
  kSwallowUndecodable,
};

// Whether the bug is the leader's (else every follower's).
inline bool LeaderBug(BrokenReplica bug) {
  return bug == BrokenReplica::kStaleAckCounted || bug == BrokenReplica::kNoRetransmit;
}

class BrokenEndpoint : public io::Endpoint {
 public:
  BrokenEndpoint(BrokenReplica bug, bool leader, std::unique_ptr<io::Endpoint> inner,
                 std::function<uint64_t()> appended)
      : bug_(bug), leader_(leader), inner_(std::move(inner)), appended_(std::move(appended)) {}

  const io::Address& address() const override { return inner_->address(); }

  absl::Status Send(const io::Address& to, std::string_view payload) override {
    if (leader_ && NoteSent(to, payload) && bug_ == BrokenReplica::kNoRetransmit) {
      return absl::OkStatus();  // a batch sent before: "sent", never delivered
    }
    return inner_->Send(to, payload);
  }

  absl::StatusOr<io::Message> Receive(int64_t timeout_ns) override {
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<io::Message> message = inner_->Receive(timeout_ns);
      if (!message.ok()) return message;
      if (bug_ == BrokenReplica::kSwallowUndecodable && attempt < kMaxSwallowed &&
          !replication::Decode(message->payload, limits_).ok()) {
        continue;
      }
      return Transform(std::move(*message));
    }
  }

 private:
  static constexpr int kMaxSwallowed = 1000;  // per Receive: bounded

  io::Message Transform(io::Message received) {
    absl::StatusOr<io::Message> message = std::move(received);
    replication::DecodeResult decoded = replication::Decode(message->payload, limits_);
    if (!decoded.ok()) return *std::move(message);  // the replica's codec rejects it, as it should
    replication::WireMessage& wire = std::get<replication::WireMessage>(decoded.value);
    if (leader_) {
      if (auto* ack = std::get_if<replication::AckMsg>(&wire);
          ack != nullptr && bug_ == BrokenReplica::kStaleAckCounted) {
        ack->durable_sequence = std::max(ack->durable_sequence, newest_sent_[message->from]);
        message->payload = replication::Encode(wire, limits_);
      }
      return *std::move(message);
    }
    auto* append = std::get_if<replication::AppendMsg>(&wire);
    if (append == nullptr || append->entries.empty()) return *std::move(message);
    const uint64_t log_end = appended_();
    const uint64_t first = append->first_sequence;
    const uint64_t last = first + append->entries.size() - 1;
    switch (bug_) {
      case BrokenReplica::kApplyWithoutGapCheck:
        if (first > log_end + 1) Restamp(*message, wire, *append, log_end + 1);
        break;
      case BrokenReplica::kReapplyOverlap:
        if (first <= log_end && last > log_end) Restamp(*message, wire, *append, log_end + 1);
        break;
      case BrokenReplica::kAckBeforeSync:
        if (first <= log_end + 1 && last > log_end) {
          (void)inner_->Send(message->from,
                             replication::Encode(replication::AckMsg{last}, limits_));
        }
        break;
      default:
        break;
    }
    return *std::move(message);
  }

  void Restamp(io::Message& message, replication::WireMessage& wire,
               replication::AppendMsg& append, uint64_t first) {
    append.first_sequence = first;
    message.payload = replication::Encode(wire, limits_);
  }

  // Records the newest sequence sent to `to`; whether `payload` is an
  // Append that starts at or below what was sent before.
  bool NoteSent(const io::Address& to, std::string_view payload) {
    replication::DecodeResult decoded = replication::Decode(payload, limits_);
    if (!decoded.ok()) return false;
    const auto* append =
        std::get_if<replication::AppendMsg>(&std::get<replication::WireMessage>(decoded.value));
    if (append == nullptr || append->entries.empty()) return false;
    uint64_t& newest = newest_sent_[to];
    const bool again = append->first_sequence <= newest;
    newest = std::max(newest, append->first_sequence + append->entries.size() - 1);
    return again;
  }

  const BrokenReplica bug_;
  const bool leader_;
  std::unique_ptr<io::Endpoint> inner_;
  std::function<uint64_t()> appended_;
  const replication::WireLimits limits_{};
  std::map<io::Address, uint64_t> newest_sent_;  // the leader's bugs: per follower
};

// The hooks that make every replica the bug's role applies to broken.
inline ReplHooks BrokenHooks(BrokenReplica bug) {
  ReplHooks hooks;
  hooks.wrap_endpoint = [bug](int replica, std::unique_ptr<io::Endpoint> inner,
                              std::function<uint64_t()> appended) -> std::unique_ptr<io::Endpoint> {
    const bool leader = replica == 0;
    if (leader != LeaderBug(bug)) return inner;
    return std::make_unique<BrokenEndpoint>(bug, leader, std::move(inner), std::move(appended));
  };
  return hooks;
}

}  // namespace faultline::scenarios::testing
