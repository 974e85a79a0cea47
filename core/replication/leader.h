// core/replication/leader.h — the leader: ships its WAL to followers over
// an io::Network and tracks the commit index.
//
// The leader's own Wal is the source of truth. For each follower it reads
// durable records (WalReader) from that follower's next sequence and sends
// them in Append batches bounded by max_batch_bytes / max_batch_records,
// with at most FlowOptions::max_inflight_batches unacknowledged
// (PeerProgress decides what to send; CommitTracker what is committed).
// Followers acknowledge what their own WALs made durable; the leader
// commits an entry once a majority (itself included) has it durable, and
// sends the commit index in every Append and heartbeat. The protocol and
// wire format: PROTOCOL.md.
//
// Fixed leader. After a crash the owner reopens the Wal and creates a new
// Leader on it: it ships from the recovered log, and its commit index starts
// at 0 and catches up from the followers' replies to its first heartbeats.
//
// Fibers: Start() spawns two on the executor — a shipper and a receiver.
// Stop() ends and joins them; call it before destroying the Leader (unless
// the node crashed: its fibers are then unwound before the owner's).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/network.h"
#include "core/replication/commit_tracker.h"
#include "core/replication/peer_progress.h"
#include "core/replication/wire.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"

namespace faultline::replication {

struct LeaderOptions {
  WireLimits limits;  // limits.max_frame_bytes <= the network's max_message_bytes
  // Payload bytes and records per Append (a record larger than the byte
  // bound goes in a batch of its own; it must still fit in a frame).
  uint64_t max_batch_bytes = 256 << 10;
  uint32_t max_batch_records = 1024;
  FlowOptions flow;
  // How often the receiver wakes up with nothing received (to notice Stop).
  int64_t receive_poll_ns = 10'000'000;
};

struct LeaderStats {
  WireRejects rejects;           // frames that failed to decode
  uint64_t unknown_senders = 0;  // frames from an address that is no follower
  uint64_t unexpected_types = 0; // an Append sent to the leader
  uint64_t send_backpressure = 0;  // Send refused with ResourceExhausted
  uint64_t read_errors = 0;        // WalReader failures (e.g. released records)
};

struct PeerStatus {
  io::Address address;
  uint64_t acked_sequence = 0;
  uint64_t next_sequence = 0;
  size_t inflight_batches = 0;
  PeerCounters counters;
};

class Leader {
 public:
  // InvalidArgument: no room in a frame for one record of wal_max_record_bytes,
  // a frame bound above the network's, a follower listed twice or equal to
  // the leader's own address, more than 64 followers.
  static absl::StatusOr<std::unique_ptr<Leader>> Create(runtime::Executor& executor,
                                                        wal::Wal& wal, io::Endpoint& endpoint,
                                                        size_t network_max_message_bytes,
                                                        uint32_t wal_max_record_bytes,
                                                        std::vector<io::Address> followers,
                                                        const LeaderOptions& options);
  ~Leader();
  Leader(const Leader&) = delete;
  Leader& operator=(const Leader&) = delete;

  void Start();
  // Ends the fibers and waits for them; wakes commit waiters. Idempotent.
  void Stop();

  // Appends one record to the WAL, waits until it is durable locally and
  // then until it is committed (or the deadline). Returns its sequence.
  //  DeadlineExceeded  not committed in time (it may commit later)
  //  FailedPrecondition stopped
  //  errors of Wal::Append and of its durability
  absl::StatusOr<uint64_t> Append(std::string_view payload,
                                  int64_t deadline_ns = runtime::kNoDeadline);
  // Waits until commit_sequence() >= sequence. Same errors as Append.
  absl::Status WaitCommitted(uint64_t sequence, int64_t deadline_ns = runtime::kNoDeadline);

  uint64_t commit_sequence() const { return commit_.commit_sequence(); }
  const LeaderStats& stats() const { return stats_; }
  std::vector<PeerStatus> peers() const;

 private:
  struct Peer;
  Leader(runtime::Executor& executor, wal::Wal& wal, io::Endpoint& endpoint,
         std::vector<io::Address> followers, const LeaderOptions& options);

  void ShipLoop();
  void ReceiveLoop();
  void ShipTo(Peer& peer, int64_t now_ns);
  // Reads the next batch for `peer` from its next sequence; empty when
  // nothing durable is left or on a read error (counted).
  std::vector<wal::Record> ReadBatch(Peer& peer);
  // Whether the batch went out (else the window is read again next time).
  bool SendBatch(Peer& peer, std::vector<wal::Record> batch, int64_t now_ns);
  void SendHeartbeat(Peer& peer, int64_t now_ns);
  absl::Status SendMessage(Peer& peer, const WireMessage& message);
  void HandleFrame(const io::Message& message);
  void RecomputeCommit();

  runtime::Executor& executor_;
  wal::Wal& wal_;
  io::Endpoint& endpoint_;
  const LeaderOptions options_;
  std::vector<std::unique_ptr<Peer>> peers_;
  CommitTracker commit_;
  LeaderStats stats_;
  runtime::Event kick_;            // new durable records, a window opened, Stop
  runtime::Event commit_advanced_; // pulsed (Set + Reset) when the commit index moves
  bool stopping_ = false;
  runtime::JoinHandle shipper_;
  runtime::JoinHandle receiver_;
};

}  // namespace faultline::replication
