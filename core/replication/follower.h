// core/replication/follower.h — the follower: applies the leader's entries
// to its own WAL strictly in sequence and acknowledges what is durable.
//
// A receiver fiber decodes each frame from the leader (frames from anyone
// else, and frames that fail to decode, are counted and dropped), lets
// FollowerState classify it (gap, duplicate, overlap, new), appends the
// new entries to the follower's Wal and hands their durability future to
// an acker fiber, which sends Ack(durable) only once the Wal has made them
// durable. At most max_unacked_appends Appends wait for durability at once;
// beyond that the receiver waits (and the network's inbox, then the
// leader's window, absorb the rest).
//
// The follower's Wal must have been created for this stream (its sequence
// numbers are the leader's: initial_sequence 1, every record appended by a
// Follower) and accept every record the leader's does (max_record_bytes at
// least the leader's, max_queued_bytes at least a batch). After a crash the owner reopens the Wal and creates a new
// Follower on it: it resumes from the Wal's durable position and tells the
// leader with a Resend from there.
//
// A failure of the Wal stops the follower (health() names it): the owner
// reopens the Wal and starts a new Follower, as after a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/network.h"
#include "core/replication/follower_state.h"
#include "core/replication/wire.h"
#include "core/runtime/channel.h"
#include "core/runtime/executor.h"
#include "core/runtime/future.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"

namespace faultline::replication {

struct FollowerOptions {
  WireLimits limits;
  // The least time between two Resend requests for the same position.
  int64_t resend_interval_ns = 20'000'000;  // 20 ms
  // Appends handed to the Wal and not yet acknowledged, at most.
  uint32_t max_unacked_appends = 64;
  int64_t receive_poll_ns = 10'000'000;
  // Called for each entry once the Wal accepted it (queued, not yet
  // durable), in sequence order (observers and checkers; must not park).
  std::function<void(uint64_t sequence, std::string_view payload)> on_append;
};

struct FollowerStats {
  WireRejects rejects;
  uint64_t unknown_senders = 0;
  uint64_t unexpected_types = 0;  // an Ack or Resend sent to a follower
  uint64_t acks_sent = 0;
  uint64_t send_failures = 0;     // Ack / Resend refused by the network (retried later)
  FollowerCounters apply;
};

class Follower {
 public:
  // InvalidArgument: leader address equal to the endpoint's own, zero
  // max_unacked_appends, a Wal that is not at a position of this stream.
  static absl::StatusOr<std::unique_ptr<Follower>> Create(runtime::Executor& executor,
                                                          wal::Wal& wal, io::Endpoint& endpoint,
                                                          io::Address leader,
                                                          FollowerOptions options);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  void Start();
  // Ends the fibers and waits for them. Idempotent.
  void Stop();

  uint64_t durable_sequence() const { return state_.durable_sequence(); }
  uint64_t appended_sequence() const { return state_.appended_sequence(); }
  // The committed prefix held here: every entry through it is durable in
  // this follower's Wal and committed by the leader.
  uint64_t committed_sequence() const { return state_.committed_sequence(); }
  // OK, or the Wal failure that stopped this follower.
  const absl::Status& health() const { return health_; }
  FollowerStats stats() const;

 private:
  struct Pending {
    uint64_t last_sequence;
    runtime::Future<uint64_t> durable;
  };
  Follower(runtime::Executor& executor, wal::Wal& wal, io::Endpoint& endpoint,
           io::Address leader, FollowerOptions options);

  void ReceiveLoop();
  void AckLoop();
  void HandleFrame(const io::Message& message);
  void Apply(const AppendMsg& append, const FollowerState::Decision& decision);
  void Send(const WireMessage& message);
  void Fail(absl::Status status);

  runtime::Executor& executor_;
  wal::Wal& wal_;
  io::Endpoint& endpoint_;
  const io::Address leader_;
  const FollowerOptions options_;
  FollowerState state_;
  FollowerStats stats_;
  absl::Status health_;
  bool stopping_ = false;
  runtime::Channel<Pending> pending_;
  runtime::JoinHandle receiver_;
  runtime::JoinHandle acker_;
};

}  // namespace faultline::replication
