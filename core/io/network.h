// core/io/network.h — the message seam between nodes.
//
// The network is a message bus between addresses, UNRELIABLE BY CONTRACT:
// a sent message may be delivered once, more than once, late, out of order,
// or never — including after Send() returned OK. Protocols built on it
// (replication) must tolerate every one of those and never rely on in-order
// delivery. core/posix implements it over TCP (framed, checksummed,
// reconnecting); sim/network implements it with seeded faults.
//
// Blocking calls suspend the calling fiber, never the thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::io {

// An address names an endpoint: "host:port" for TCP, a node-chosen name in
// simulation. Opaque to production code beyond equality.
using Address = std::string;

// The payload is what the sender passed to Send. TCP's checksummed,
// authenticated frames make sure of that in production; the simulated
// network may deliver a payload with a bit flipped (sim/network), so a
// protocol checksums its own messages and rejects what fails.
struct Message {
  Address from;          // the sender endpoint's own (listen) address
  std::string payload;   // the bytes passed to Send (see above)
};

// One bound address: sends from it, and receives what is sent to it.
// Destroying an Endpoint unbinds the address.
class Endpoint {
 public:
  virtual ~Endpoint() = default;

  virtual const Address& address() const = 0;

  // Queues `payload` for `to`. OK means accepted, not delivered.
  //  InvalidArgument   payload larger than Network::max_message_bytes()
  //  ResourceExhausted the per-peer send queue is full (back-pressure)
  //  IsNodeDead        this node crashed
  virtual absl::Status Send(const Address& to, std::string_view payload) = 0;

  // Waits up to `timeout_ns` (>= 0) for the next message.
  //  DeadlineExceeded  nothing arrived in time
  //  IsNodeDead        this node crashed
  virtual absl::StatusOr<Message> Receive(int64_t timeout_ns) = 0;
};

class Network {
 public:
  virtual ~Network() = default;

  // Binds `address` for receiving. AlreadyExists if it is bound already.
  virtual absl::StatusOr<std::unique_ptr<Endpoint>> Listen(const Address& address) = 0;

  // The largest payload Send accepts, in bytes (configurable per network).
  virtual size_t max_message_bytes() const = 0;
};

}  // namespace faultline::io
