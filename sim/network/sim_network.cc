// sim/network/sim_network.cc — endpoints, Send/Receive, queues and crashes
// of the simulated network (see sim_network.h; fault decisions are in
// net_faults.cc).
#include "sim/network/sim_network.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/io/errors.h"

namespace faultline::sim::net {
namespace {

// Receive re-checks after every wake-up (a message taken by another waiter,
// an arrival that a clog then held); bounded all the same.
constexpr uint64_t kMaxReceiveWakeups = 1'000'000;

}  // namespace

SimNetwork::SimNetwork(Scheduler& scheduler, NetworkOptions options, NetworkFaultPlan plan)
    : scheduler_(scheduler), options_(options), plan_(std::move(plan)) {
  FAULTLINE_CHECK_MSG(options_.max_queued_bytes_per_peer >= options_.max_message_bytes,
                      "max_queued_bytes_per_peer must hold one message of max_message_bytes");
  FAULTLINE_CHECK(options_.max_queued_messages_per_peer >= 1 && options_.max_endpoints >= 1);
}

SimNetwork::~SimNetwork() { *exists_ = false; }

absl::StatusOr<std::unique_ptr<io::Endpoint>> SimNetwork::Listen(const io::Address& address) {
  CatchUpCrashes();
  if (address.empty()) return absl::InvalidArgumentError("listen: empty address");
  const NodeId node = scheduler_.CurrentNode();
  Track(node);
  if (!scheduler_.IsAlive(node) || nodes_.at(node).settled) {
    return io::NodeDeadError(absl::StrCat("listen ", address));
  }
  if (bound_.contains(address)) {
    return absl::AlreadyExistsError(absl::StrCat("listen ", address, ": address in use"));
  }
  if (ports_.size() >= options_.max_endpoints) {
    return absl::ResourceExhaustedError(
        absl::StrCat("listen ", address, ": ", options_.max_endpoints, " endpoints already"));
  }
  auto port = std::make_unique<Port>(scheduler_);
  port->id = next_port_id_++;
  port->address = address;
  port->node = node;
  port->incarnation = scheduler_.Incarnation(node);
  const uint64_t id = port->id;
  bound_.emplace(address, id);
  ports_.emplace(id, std::move(port));
  scheduler_.RecordAt(node, TraceKind::kNetwork, {"port", id}, {}, absl::StrCat("listen ", address));
  return std::make_unique<SimEndpoint>(this, id, address, exists_);
}

void SimNetwork::Crash(NodeId node) {
  CatchUpCrashes();
  Track(node);
  const NodeTrack& track = nodes_.at(node);
  if (!track.settled) SettleCrash(node, track.incarnation);
}

size_t SimNetwork::in_flight() const {
  size_t count = 0;
  for (const auto& [id, port] : ports_) count += port->pending.size();
  return count;
}

// --- endpoints -------------------------------------------------------------------

absl::StatusOr<SimNetwork::Port*> SimNetwork::LivePort(uint64_t port_id, std::string_view what) {
  const auto it = ports_.find(port_id);
  if (it == ports_.end()) return absl::FailedPreconditionError(absl::StrCat(AsAbsl(what), ": endpoint closed"));
  Port& port = *it->second;
  if (port.dead || !scheduler_.IsAlive(port.node) ||
      scheduler_.Incarnation(port.node) != port.incarnation) {
    return io::NodeDeadError(absl::StrCat(AsAbsl(what), " ", port.address));
  }
  return &port;
}

absl::Status SimNetwork::Send(uint64_t port_id, const io::Address& to, std::string_view payload) {
  CatchUpCrashes();
  absl::StatusOr<Port*> source = LivePort(port_id, "send");
  if (!source.ok()) return source.status();
  if (payload.size() > options_.max_message_bytes) {
    ++stats_.rejected_oversize;
    return absl::InvalidArgumentError(absl::StrCat("send to ", to, ": ", payload.size(),
                                                   " bytes, more than max_message_bytes ",
                                                   options_.max_message_bytes));
  }
  ObserveRules();
  const auto bound = bound_.find(to);
  if (bound == bound_.end()) {
    ++stats_.dropped_no_listener;
    scheduler_.RecordLazyAt((*source)->node, TraceKind::kNetwork, {"port", port_id},
                            {"len", payload.size()}, Trace::HashBytes(to),
                            [&] { return absl::StrCat("send to ", to, ": no listener, lost"); });
    return absl::OkStatus();
  }
  Port& dest = *ports_.at(bound->second);
  if (!QueueHasRoom(port_id, dest.id, payload.size())) {
    ++stats_.rejected_queue_full;
    return absl::ResourceExhaustedError(
        absl::StrCat("send to ", to, ": the queue to this peer is full"));
  }
  ++stats_.sent;
  DecideAndEnqueue(**source, dest, payload);
  return absl::OkStatus();
}

absl::StatusOr<io::Message> SimNetwork::Receive(uint64_t port_id, int64_t timeout_ns) {
  if (timeout_ns < 0) return absl::InvalidArgumentError("receive: negative timeout");
  const int64_t deadline_ns = runtime::DeadlineAfter(scheduler_.NowNs(), timeout_ns);
  for (uint64_t wakeups = 0;; ++wakeups) {
    FAULTLINE_CHECK_MSG(wakeups < kMaxReceiveWakeups, "too many wake-ups in one Receive");
    CatchUpCrashes();
    ObserveRules();
    absl::StatusOr<Port*> live = LivePort(port_id, "receive");
    if (!live.ok()) return live.status();
    Port& port = **live;
    const int64_t now_ns = scheduler_.NowNs();
    const int64_t next_ns =
        port.pending.empty() ? runtime::kNoDeadline : port.pending.begin()->first.first;
    if (next_ns <= now_ns) return Take(port);
    if (now_ns >= deadline_ns) {
      return absl::DeadlineExceededError(absl::StrCat("receive ", port.address, ": nothing arrived"));
    }
    const int64_t wake_at_ns = std::min(deadline_ns, next_ns);
    FAULTLINE_CHECK_MSG(scheduler_.CurrentFiber() != nullptr,
                        "Receive with a timeout needs a fiber to park (call from a fiber)");
    port.latest_wake_ns = std::max(port.latest_wake_ns, wake_at_ns);
    port.arrival.Reset();
    port.arrival.WaitUntil(wake_at_ns);
  }
}

absl::StatusOr<io::Message> SimNetwork::Take(Port& port) {
  InFlight message = Remove(port, port.pending.begin());
  ++stats_.delivered;
  if (message.corrupted) ++stats_.delivered_corrupt;
  scheduler_.RecordLazyAt(
      port.node, TraceKind::kNetwork, {"msg", message.id}, {"len", message.payload.size()},
      Trace::Fold(port.id, message.corrupted ? 1 : 0), [&] {
        return absl::StrCat("delivered ", message.from_address, " -> ", port.address,
                            message.corrupted ? " (corrupted)" : "");
      });
  return io::Message{std::move(message.from_address), std::move(message.payload)};
}

void SimNetwork::WakeIfEarlier(Port& port, int64_t arrival_ns) {
  if (arrival_ns < port.latest_wake_ns) WakeAll(port);
}

void SimNetwork::WakeAll(Port& port) {
  port.latest_wake_ns = std::numeric_limits<int64_t>::min();
  port.arrival.Set();
}

void SimNetwork::ClosePort(uint64_t port_id) {
  CatchUpCrashes();  // what a crash took is counted as the crash's
  const auto it = ports_.find(port_id);
  if (it == ports_.end()) return;
  Port& port = *it->second;
  const size_t dropped = port.pending.size();
  while (!port.pending.empty()) Remove(port, port.pending.begin());
  stats_.vanished_endpoint_closed += dropped;
  const auto bound = bound_.find(port.address);
  if (bound != bound_.end() && bound->second == port_id) bound_.erase(bound);
  scheduler_.RecordAt(port.node, TraceKind::kNetwork, {"port", port_id}, {"dropped", dropped},
                      absl::StrCat("close ", port.address));
  ports_.erase(it);
}

SimNetwork::InFlight SimNetwork::Remove(Port& port, std::map<ArrivalKey, InFlight>::iterator it) {
  InFlight message = std::move(it->second);
  port.pending.erase(it);
  QueueRemove(message.from_port, port.id, message.payload.size());
  return message;
}

// --- crashes ---------------------------------------------------------------------

void SimNetwork::Track(NodeId node) {
  if (!nodes_.contains(node)) {
    nodes_.emplace(node, NodeTrack{scheduler_.Incarnation(node), !scheduler_.IsAlive(node)});
  }
}

void SimNetwork::CatchUpCrashes() {
  // Every port and message belongs to the incarnation a node's track names:
  // each operation catches up before it creates any.
  for (auto& [node, track] : nodes_) {
    const uint64_t current = scheduler_.Incarnation(node);
    if (!track.settled && (track.incarnation != current || !scheduler_.IsAlive(node))) {
      SettleCrash(node, track.incarnation);
    }
    if (track.incarnation != current) track = NodeTrack{current, !scheduler_.IsAlive(node)};
  }
}

void SimNetwork::SettleCrash(NodeId node, uint64_t incarnation) {
  NodeTrack& track = nodes_.at(node);
  FAULTLINE_CHECK(track.incarnation == incarnation && !track.settled);
  track.settled = true;
  const int64_t now_ns = scheduler_.NowNs();
  uint64_t vanished = 0;
  for (auto& [id, port] : ports_) {
    if (port->node == node && port->incarnation == incarnation) {
      if (port->dead) continue;
      port->dead = true;
      vanished += port->pending.size();
      while (!port->pending.empty()) Remove(*port, port->pending.begin());
      const auto bound = bound_.find(port->address);
      if (bound != bound_.end() && bound->second == id) bound_.erase(bound);
      WakeAll(*port);  // a waiter of another node sees it dead
      continue;
    }
    // Its messages still on the wire (or held by a clog) vanish; those that
    // have arrived stay.
    for (auto it = port->pending.begin(); it != port->pending.end();) {
      const auto next = std::next(it);
      if (it->second.from_node == node && it->second.from_incarnation == incarnation &&
          it->first.first > now_ns) {
        Remove(*port, it);
        ++vanished;
      }
      it = next;
    }
  }
  if (vanished > 0) fault_stats_.Add(NetFaultKind::kCrashVanish, vanished);
  scheduler_.RecordAt(node, TraceKind::kNetwork, {"incarnation", incarnation},
                      {"vanished", vanished}, "crash: endpoints dead, messages in flight vanish");
}

// --- queues ----------------------------------------------------------------------

bool SimNetwork::QueueHasRoom(uint64_t from_port, uint64_t to_port, size_t bytes) const {
  const auto it = queues_.find({from_port, to_port});
  const Queue queue = it == queues_.end() ? Queue{} : it->second;
  return queue.messages + 1 <= options_.max_queued_messages_per_peer &&
         queue.bytes + bytes <= options_.max_queued_bytes_per_peer;
}

void SimNetwork::QueueAdd(uint64_t from_port, uint64_t to_port, size_t bytes) {
  Queue& queue = queues_[{from_port, to_port}];
  ++queue.messages;
  queue.bytes += bytes;
}

void SimNetwork::QueueRemove(uint64_t from_port, uint64_t to_port, size_t bytes) {
  const auto it = queues_.find({from_port, to_port});
  FAULTLINE_CHECK(it != queues_.end() && it->second.messages >= 1 && it->second.bytes >= bytes);
  --it->second.messages;
  it->second.bytes -= bytes;
  if (it->second.messages == 0) queues_.erase(it);
}

// --- SimEndpoint -------------------------------------------------------------------

SimEndpoint::~SimEndpoint() {
  if (!network_gone()) network_->ClosePort(port_id_);
}

absl::Status SimEndpoint::Send(const io::Address& to, std::string_view payload) {
  if (network_gone()) return absl::FailedPreconditionError("send: the network is gone");
  return network_->Send(port_id_, to, payload);
}

absl::StatusOr<io::Message> SimEndpoint::Receive(int64_t timeout_ns) {
  if (network_gone()) return absl::FailedPreconditionError("receive: the network is gone");
  return network_->Receive(port_id_, timeout_ns);
}

}  // namespace faultline::sim::net
