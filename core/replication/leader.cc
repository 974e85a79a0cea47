// core/replication/leader.cc — the leader's fibers: shipping batches from
// the WAL, and receiving acknowledgements and resend requests.
#include "core/replication/leader.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"

namespace faultline::replication {
namespace {
// The least time the shipper sleeps between passes when nothing kicks it.
constexpr int64_t kMinShipWaitNs = 1'000'000;  // 1 ms
}  // namespace

struct Leader::Peer {
  Peer(io::Address a, uint64_t next_sequence, const FlowOptions& flow)
      : address(std::move(a)), progress(next_sequence, flow) {}
  io::Address address;
  PeerProgress progress;
  // Positioned at progress.next_sequence() while the window is unchanged;
  // `peeked` is a record read but left for the next batch (it did not fit).
  std::unique_ptr<wal::WalReader> reader;
  std::optional<wal::Record> peeked;
};

absl::StatusOr<std::unique_ptr<Leader>> Leader::Create(
    runtime::Executor& executor, wal::Wal& wal, io::Endpoint& endpoint,
    size_t network_max_message_bytes, uint32_t wal_max_record_bytes,
    std::vector<io::Address> followers, const LeaderOptions& options) {
  if (options.limits.max_frame_bytes > network_max_message_bytes) {
    return absl::InvalidArgumentError("max_frame_bytes exceeds the network's max_message_bytes");
  }
  if (AppendFrameBytes(1, wal_max_record_bytes) > options.limits.max_frame_bytes ||
      wal_max_record_bytes > options.limits.max_entry_bytes) {
    return absl::InvalidArgumentError("a WAL record of the largest size would not fit in a frame");
  }
  if (options.max_batch_records == 0 || options.max_batch_records > options.limits.max_entries ||
      options.max_batch_bytes == 0) {
    return absl::InvalidArgumentError("max_batch_records / max_batch_bytes out of range");
  }
  if (followers.size() > 64) return absl::InvalidArgumentError("more than 64 followers");
  std::set<io::Address> seen;
  for (const io::Address& follower : followers) {
    if (follower == endpoint.address() || !seen.insert(follower).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("follower address listed twice or equal to the leader's: ", follower));
    }
  }
  return std::unique_ptr<Leader>(
      new Leader(executor, wal, endpoint, std::move(followers), options));
}

Leader::Leader(runtime::Executor& executor, wal::Wal& wal, io::Endpoint& endpoint,
               std::vector<io::Address> followers, const LeaderOptions& options)
    : executor_(executor),
      wal_(wal),
      endpoint_(endpoint),
      options_(options),
      commit_(followers.size()),
      kick_(executor),
      commit_advanced_(executor) {
  for (io::Address& address : followers) {
    peers_.push_back(
        std::make_unique<Peer>(std::move(address), wal.durable_sequence() + 1, options.flow));
  }
  RecomputeCommit();  // a leader without followers commits on its own
}

Leader::~Leader() {
  FAULTLINE_CHECK_MSG(!shipper_.valid() || shipper_.done(), "Leader destroyed before Stop()");
  FAULTLINE_CHECK_MSG(!receiver_.valid() || receiver_.done(), "Leader destroyed before Stop()");
}

void Leader::Start() {
  FAULTLINE_CHECK(!shipper_.valid());
  shipper_ = runtime::Spawn(executor_, "repl-leader-ship", [this] { ShipLoop(); });
  receiver_ = runtime::Spawn(executor_, "repl-leader-recv", [this] { ReceiveLoop(); });
}

void Leader::Stop() {
  stopping_ = true;
  kick_.Set();
  commit_advanced_.Set();
  commit_advanced_.Reset();
  if (shipper_.valid()) shipper_.Join();
  if (receiver_.valid()) receiver_.Join();
}

absl::StatusOr<uint64_t> Leader::Append(std::string_view payload, int64_t deadline_ns) {
  if (stopping_) return absl::FailedPreconditionError("the leader is stopped");
  absl::StatusOr<wal::AppendResult> appended = wal_.Append(payload);
  if (!appended.ok()) return appended.status();
  const absl::StatusOr<uint64_t>& durable = appended->durable.Get();
  if (!durable.ok()) return durable.status();
  kick_.Set();
  RecomputeCommit();
  FAULTLINE_RETURN_IF_ERROR(WaitCommitted(appended->last_sequence, deadline_ns));
  return appended->last_sequence;
}

absl::Status Leader::WaitCommitted(uint64_t sequence, int64_t deadline_ns) {
  while (commit_.commit_sequence() < sequence) {
    if (stopping_) return absl::FailedPreconditionError("the leader is stopped");
    if (!commit_advanced_.WaitUntil(deadline_ns) && commit_.commit_sequence() < sequence) {
      return absl::DeadlineExceededError(absl::StrCat("sequence ", sequence, " not committed"));
    }
  }
  return absl::OkStatus();
}

std::vector<PeerStatus> Leader::peers() const {
  std::vector<PeerStatus> out;
  for (const auto& peer : peers_) {
    out.push_back(PeerStatus{peer->address, peer->progress.acked_sequence(),
                             peer->progress.next_sequence(), peer->progress.inflight_batches(),
                             peer->progress.counters()});
  }
  return out;
}

void Leader::RecomputeCommit() {
  std::vector<uint64_t> acked;
  acked.reserve(peers_.size());
  for (const auto& peer : peers_) acked.push_back(peer->progress.acked_sequence());
  if (commit_.Update(wal_.durable_sequence(), acked)) {
    commit_advanced_.Set();  // releases every waiter parked now
    commit_advanced_.Reset();
  }
}

void Leader::ShipLoop() {
  while (!stopping_) {
    kick_.Reset();
    int64_t deadline_ns = runtime::kNoDeadline;
    for (const auto& peer : peers_) {
      ShipTo(*peer, executor_.NowNs());
      if (stopping_) return;
      deadline_ns = std::min(deadline_ns, peer->progress.NextDeadlineNs());
    }
    // Records made durable without Append (written to the Wal directly) are
    // picked up at the next heartbeat deadline at the latest. The floor keeps
    // a deadline that is already due from turning this loop into a spin.
    kick_.WaitUntil(std::max(deadline_ns, executor_.NowNs() + kMinShipWaitNs));
  }
}

void Leader::ShipTo(Peer& peer, int64_t now_ns) {
  peer.progress.OnTick(now_ns);
  bool sent = false;
  // Bounded by the window: each pass sends a batch or stops.
  for (uint32_t i = 0; i <= options_.flow.max_inflight_batches && !stopping_; ++i) {
    if (!peer.progress.CanSend(wal_.durable_sequence())) break;
    std::vector<wal::Record> batch = ReadBatch(peer);
    if (batch.empty()) break;
    // The read may have parked; a Resend may have moved the window meanwhile.
    if (batch.front().sequence != peer.progress.next_sequence()) {
      peer.reader.reset();
      peer.peeked.reset();
      continue;
    }
    if (!SendBatch(peer, std::move(batch), executor_.NowNs())) break;
    sent = true;
  }
  if (!sent && peer.progress.HeartbeatDue(now_ns)) SendHeartbeat(peer, now_ns);
}

std::vector<wal::Record> Leader::ReadBatch(Peer& peer) {
  const uint64_t from = peer.progress.next_sequence();
  const bool positioned = peer.reader != nullptr &&
                          (peer.peeked ? peer.peeked->sequence == from
                                       : peer.reader->next_sequence() == from);
  if (!positioned) {
    peer.peeked.reset();
    absl::StatusOr<std::unique_ptr<wal::WalReader>> reader = wal_.NewReader(from);
    if (!reader.ok()) {
      ++stats_.read_errors;
      peer.reader.reset();
      return {};
    }
    peer.reader = std::move(*reader);
  }
  std::vector<wal::Record> batch;
  uint64_t batch_bytes = 0;
  while (batch.size() < options_.max_batch_records) {
    if (!peer.peeked) {
      absl::StatusOr<std::optional<wal::Record>> next = peer.reader->Next();
      if (!next.ok()) {
        ++stats_.read_errors;
        peer.reader.reset();
        break;
      }
      if (!next->has_value()) break;
      peer.peeked = std::move(**next);
    }
    const uint64_t size = peer.peeked->payload.size();
    const bool fits = batch_bytes + size <= options_.max_batch_bytes &&
                      AppendFrameBytes(batch.size() + 1, batch_bytes + size) <=
                          options_.limits.max_frame_bytes;
    if (!batch.empty() && !fits) break;
    batch_bytes += size;
    batch.push_back(std::move(*peer.peeked));
    peer.peeked.reset();
  }
  return batch;
}

bool Leader::SendBatch(Peer& peer, std::vector<wal::Record> batch, int64_t now_ns) {
  const uint64_t first = batch.front().sequence;
  const uint64_t last = batch.back().sequence;
  FAULTLINE_CHECK(last - first + 1 == batch.size());  // the WAL reads consecutive records
  AppendMsg append;
  append.first_sequence = first;
  append.commit_sequence = commit_.commit_sequence();
  append.leader_durable_sequence = wal_.durable_sequence();
  append.entries.reserve(batch.size());
  for (wal::Record& record : batch) append.entries.push_back(std::move(record.payload));
  if (!SendMessage(peer, append).ok()) {
    // Not in flight: the next pass reads the window again from the WAL.
    peer.reader.reset();
    peer.peeked.reset();
    return false;
  }
  peer.progress.OnSent(first, last, now_ns);
  return true;
}

void Leader::SendHeartbeat(Peer& peer, int64_t now_ns) {
  AppendMsg heartbeat;
  heartbeat.first_sequence = peer.progress.next_sequence();
  heartbeat.commit_sequence = commit_.commit_sequence();
  heartbeat.leader_durable_sequence = wal_.durable_sequence();
  // A refused heartbeat counts as sent (the network may drop it anyway):
  // heartbeats are paced even while the network pushes back.
  (void)SendMessage(peer, heartbeat);
  peer.progress.OnHeartbeatSent(now_ns);
}

absl::Status Leader::SendMessage(Peer& peer, const WireMessage& message) {
  absl::Status status = endpoint_.Send(peer.address, Encode(message, options_.limits));
  if (absl::IsResourceExhausted(status)) ++stats_.send_backpressure;
  return status;
}

void Leader::ReceiveLoop() {
  while (!stopping_) {
    absl::StatusOr<io::Message> message = endpoint_.Receive(options_.receive_poll_ns);
    if (absl::IsDeadlineExceeded(message.status())) continue;
    if (!message.ok()) return;  // the node died or the endpoint is gone
    HandleFrame(*message);
  }
}

void Leader::HandleFrame(const io::Message& message) {
  Peer* peer = nullptr;
  for (const auto& candidate : peers_) {
    if (candidate->address == message.from) peer = candidate.get();
  }
  if (peer == nullptr) {
    ++stats_.unknown_senders;
    return;
  }
  DecodeResult decoded = Decode(message.payload, options_.limits);
  if (!decoded.ok()) {
    stats_.rejects.Count(std::get<RejectReason>(decoded.value));
    return;
  }
  const WireMessage& wire = std::get<WireMessage>(decoded.value);
  const uint64_t leader_durable = wal_.durable_sequence();
  bool advanced = false;
  if (const auto* ack = std::get_if<AckMsg>(&wire)) {
    advanced = peer->progress.OnAck(ack->durable_sequence, leader_durable);
  } else if (const auto* resend = std::get_if<ResendMsg>(&wire)) {
    advanced = peer->progress.OnResend(resend->from_sequence, resend->durable_sequence,
                                       leader_durable, executor_.NowNs());
  } else {
    ++stats_.unexpected_types;
    return;
  }
  if (advanced) RecomputeCommit();
  kick_.Set();  // a window may have opened or moved
}

}  // namespace faultline::replication
