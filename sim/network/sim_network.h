// sim/network/sim_network.h — the simulated message bus: io::Network for
// every node of a simulation, with seeded faults, partitions, clogging and
// crashes.
//
// MODEL. An endpoint belongs to the node (and incarnation) of the fiber that
// called Listen. Send resolves the destination address to the endpoint that
// holds it now and decides, there and then, from Stream::kNetwork and the
// plan (net_plan.h), what becomes of the message: lost (a rule, a rate, a
// partition), or given an arrival time (the link's latency, maybe a delay
// fault, maybe held by a clog), maybe with a corrupted payload, maybe
// swapped in arrival order with a message still in flight on its link,
// maybe duplicated (the copy draws its own latency). The message then waits
// in the destination endpoint until its arrival time has come and a Receive
// takes it; arrivals are taken in (arrival time, send order). Receive parks
// the calling fiber on the scheduler until the next arrival or its timeout;
// no fiber of the network's own runs.
//
// CORRUPTION. A corrupted message is DELIVERED with one payload bit flipped
// (TCP's frame checksum and HMAC would catch it in production, but
// the simulation hands it to the code under test): a protocol on io::Network
// checksums its own messages, and its codec must reject the damage. The
// network counts what it corrupted (NetStats::delivered_corrupt) so a
// scenario can check that every corrupted delivery was rejected.
//
// PARTITIONS AND CLOGS. Imperative (Partition/Heal, Clog/Release, HealAll)
// or by plan rules with time windows. A partition loses the messages sent
// across it while it holds; messages already in flight land. A clog holds
// the link's messages that have not arrived yet, and those sent while it
// holds; its release lets them all arrive at once (a burst), each no earlier
// than its own latency allowed. Rule windows are announced in the trace
// (partition / heal / clog / release) at the network's first operation at
// or after the window's edge; the decisions depend on time alone.
//
// CRASHES. When a node's incarnation dies, its endpoints die with it (every
// call but the destructor fails with io::NodeDeadError, and their addresses
// are free for the next incarnation to Listen on — a fresh endpoint), the
// messages waiting in them vanish, and so do its messages still in flight
// (not yet arrived, or held by a clog). Messages it sent that have already
// arrived stay: a receiver may still take stale messages from a dead
// incarnation. Call Crash(node) when the node crashes (just before or after
// Scheduler::Crash; the kit's Node does) so that this happens at the crash's
// virtual time; otherwise the network settles it at its next operation.
//
// BOUNDS. A sender endpoint holds at most max_queued_messages_per_peer
// messages (and max_queued_bytes_per_peer payload bytes) per destination
// endpoint that have been accepted and not yet taken, dropped or vanished;
// beyond, Send returns ResourceExhausted (back-pressure, as io::Network
// says). A duplicate that would pass the bound is not made.
//
// TRACE. Every Send is a TraceKind::kNetwork event ("sent", msg id and
// arrival time), every Receive that returns a message another ("delivered"),
// every loss without a fault ("no listener") a third; every fault is a
// TraceKind::kFault event (net_plan.h) counted in fault_stats().
//
// LIFETIME. The SimNetwork must outlive every fiber waiting in Receive
// (Scheduler::Shutdown first), and an endpoint must not be destroyed while
// a fiber waits in its Receive (both are checked errors, as for any
// runtime primitive). An endpoint that outlives the network fails every
// call with FailedPrecondition. Not thread-safe (nothing in the simulation
// is).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/network.h"
#include "core/runtime/event.h"
#include "sim/network/net_plan.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::net {

struct NetworkOptions {
  size_t max_message_bytes = 1 << 20;
  size_t max_queued_messages_per_peer = 1024;
  size_t max_queued_bytes_per_peer = 8 << 20;  // >= max_message_bytes
  size_t max_endpoints = 4096;                  // live endpoints at once
};

class SimEndpoint;

class SimNetwork final : public io::Network {
 public:
  SimNetwork(Scheduler& scheduler, NetworkOptions options = {}, NetworkFaultPlan plan = {});
  ~SimNetwork() override;
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // --- io::Network (contract in core/io/network.h) ------------------------
  // Also: InvalidArgument for an empty address, ResourceExhausted beyond
  // max_endpoints, IsNodeDead when the calling node is dead.
  absl::StatusOr<std::unique_ptr<io::Endpoint>> Listen(const io::Address& address) override;
  size_t max_message_bytes() const override { return options_.max_message_bytes; }

  // --- crashes -----------------------------------------------------------------
  // The node's current incarnation crashes now (see CRASHES). Idempotent per
  // incarnation.
  void Crash(NodeId node);

  // --- partitions and clogs (imperative) ---------------------------------------
  // Returns an id for Heal / Release. Each is traced and counted.
  uint64_t Partition(PartitionSpec spec);
  void Heal(uint64_t partition_id);
  uint64_t Clog(ClogSpec spec);
  void Release(uint64_t clog_id);
  // Every partition healed and every clog released, the plan's rule windows
  // included (they end now).
  void HealAll();

  // The plan may be changed between operations (rates, rules appended or
  // cleared; call HealAll before clearing rule windows that have begun).
  NetworkFaultPlan& plan() { return plan_; }
  const NetworkOptions& options() const { return options_; }
  const NetFaultStats& fault_stats() const { return fault_stats_; }
  const NetStats& stats() const { return stats_; }
  Scheduler& scheduler() { return scheduler_; }
  // Messages accepted and not yet taken, lost or vanished (copies included).
  size_t in_flight() const;

 private:
  friend class SimEndpoint;

  struct InFlight {
    uint64_t id = 0;
    NodeId from_node = 0;
    uint64_t from_incarnation = 0;
    uint64_t from_port = 0;
    io::Address from_address;
    std::string payload;
    int64_t natural_arrival_ns = 0;  // before any clog held it
    bool corrupted = false;
    bool held = false;       // by an imperative clog: arrival unknown until released
    bool rule_held = false;  // a clog rule moved its arrival to the window's end
  };
  using ArrivalKey = std::pair<int64_t, uint64_t>;  // (arrival_ns, message id)

  // The network's side of one endpoint (the SimEndpoint object only names it).
  struct Port {
    explicit Port(Scheduler& scheduler) : arrival(scheduler) {}
    uint64_t id = 0;
    io::Address address;
    NodeId node = 0;
    uint64_t incarnation = 0;
    bool dead = false;
    std::map<ArrivalKey, InFlight> pending;
    runtime::Event arrival;            // set when a message may have become takeable
    // The latest wake-up time of the fibers waiting in Receive since the last
    // Set (INT64_MIN: none). An arrival at or after it needs no Set: every
    // waiter wakes by then anyway and looks.
    int64_t latest_wake_ns = std::numeric_limits<int64_t>::min();
  };

  // A node's incarnation as the network last saw it.
  struct NodeTrack {
    uint64_t incarnation = 0;
    bool settled = false;  // its crash is settled
  };

  // What rules and rates decided for one message.
  struct SendDecision {
    bool drop = false;
    bool duplicate = false;
    bool corrupt = false;
    bool reorder = false;
    int64_t delay_ns = 0;
  };

  enum class RuleState : uint8_t { kPending, kActive, kOver };

  // --- endpoints (sim_network.cc) -----------------------------------------------
  absl::Status Send(uint64_t port_id, const io::Address& to, std::string_view payload);
  absl::StatusOr<io::Message> Receive(uint64_t port_id, int64_t timeout_ns);
  void ClosePort(uint64_t port_id);
  // The port if its endpoint is live, else the status to return.
  absl::StatusOr<Port*> LivePort(uint64_t port_id, std::string_view what);
  absl::StatusOr<io::Message> Take(Port& port);
  void WakeIfEarlier(Port& port, int64_t arrival_ns);
  void WakeAll(Port& port);
  void Track(NodeId node);
  // Settles every crash the network has not seen yet.
  void CatchUpCrashes();
  void SettleCrash(NodeId node, uint64_t incarnation);
  // Removes one pending message; its sender's queue shrinks.
  InFlight Remove(Port& port, std::map<ArrivalKey, InFlight>::iterator it);

  // --- decisions and faults (net_faults.cc) ----------------------------------------
  // Counts the message on its node pair and applies the matching rules.
  SendDecision ApplyRules(NodeId from, NodeId to);
  bool IsCut(NodeId from, NodeId to) const;
  void DecideAndEnqueue(Port& source, Port& dest, std::string_view payload);
  ArrivalKey Enqueue(Port& dest, InFlight message, int64_t arrival_ns);
  // The arrival after the clog rules' windows (each holds what would arrive
  // inside it until its end).
  int64_t AfterRuleClogs(NodeId from, NodeId to, int64_t arrival_ns) const;
  bool ImperativeClogHolds(NodeId from, NodeId to) const;
  void Corrupt(InFlight& message);
  void Reorder(Port& dest, ArrivalKey key);
  // Moves a pending message to a new arrival time; returns its new key.
  ArrivalKey Retime(Port& port, ArrivalKey key, int64_t arrival_ns);
  // Re-times held messages that no clog holds any more (arrival: now, or
  // their natural arrival if later).
  void ReleaseHeld(bool rule_clogs_ended);
  // Announces rule windows whose edges have passed.
  void ObserveRules();
  template <typename Describe>
  void Note(NetFaultKind kind, NodeId node, TraceField detail, uint64_t text_key,
            Describe&& describe, uint64_t n = 1) {
    fault_stats_.Add(kind, n);
    scheduler_.RecordLazyAt(node, TraceKind::kFault, {"net_fault", static_cast<uint64_t>(kind)},
                            detail, text_key, describe);
  }

  // --- queues ------------------------------------------------------------------
  struct Queue {
    size_t messages = 0;
    size_t bytes = 0;
  };
  bool QueueHasRoom(uint64_t from_port, uint64_t to_port, size_t bytes) const;
  void QueueAdd(uint64_t from_port, uint64_t to_port, size_t bytes);
  void QueueRemove(uint64_t from_port, uint64_t to_port, size_t bytes);

  Scheduler& scheduler_;
  const NetworkOptions options_;
  NetworkFaultPlan plan_;
  NetFaultStats fault_stats_;
  NetStats stats_;

  uint64_t next_port_id_ = 1;
  uint64_t next_message_id_ = 1;
  uint64_t next_partition_id_ = 1;
  uint64_t next_clog_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Port>> ports_;          // by id: deterministic order
  std::map<io::Address, uint64_t> bound_;                    // address -> live port
  std::map<std::pair<uint64_t, uint64_t>, Queue> queues_;    // (sender port, dest port)
  std::map<NodeId, NodeTrack> nodes_;
  std::map<std::pair<NodeId, NodeId>, uint64_t> pair_counts_;  // messages per node pair
  std::map<uint64_t, PartitionSpec> partitions_;
  std::map<uint64_t, ClogSpec> clogs_;
  std::vector<RuleState> partition_rule_states_;
  std::vector<RuleState> clog_rule_states_;
  // Shared with every endpoint; false once the network is destroyed.
  std::shared_ptr<bool> exists_ = std::make_shared<bool>(true);
};

// One bound address (io::Endpoint). Made by SimNetwork::Listen.
class SimEndpoint final : public io::Endpoint {
 public:
  SimEndpoint(SimNetwork* network, uint64_t port_id, io::Address address,
              std::shared_ptr<bool> network_exists)
      : network_(network), port_id_(port_id), address_(std::move(address)),
        network_exists_(std::move(network_exists)) {}
  ~SimEndpoint() override;
  SimEndpoint(const SimEndpoint&) = delete;
  SimEndpoint& operator=(const SimEndpoint&) = delete;

  const io::Address& address() const override { return address_; }
  absl::Status Send(const io::Address& to, std::string_view payload) override;
  absl::StatusOr<io::Message> Receive(int64_t timeout_ns) override;

 private:
  bool network_gone() const { return !*network_exists_; }

  SimNetwork* const network_;
  const uint64_t port_id_;
  const io::Address address_;
  const std::shared_ptr<bool> network_exists_;
};

}  // namespace faultline::sim::net
