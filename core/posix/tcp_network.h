// core/posix/tcp_network.h — io::Network over TCP.
//
// Addresses are "host:port" with a numeric IPv4 host ("127.0.0.1:7000"), a
// bracketed numeric IPv6 host ("[::1]:7000"), or "localhost". Listen on port
// 0 picks a free port; the Endpoint's address() then names the real one.
// The listen address is what receivers see as Message::from and reply to,
// so listen on an address peers can reach (not a wildcard like 0.0.0.0).
//
// Each Endpoint sends over its own outbound connections, one per destination,
// opened on the first Send and re-opened with exponential backoff after a
// failure; it receives on the connections others open to its listen socket.
// Frames are length-prefixed, CRC32C-checksummed and carry the sender's listen
// address (core/posix/tcp_frame_format.md), so Message::from names the peer
// to reply to, not an ephemeral port.
//
// Faults are contained: a frame that is garbage, fails its checksum or is
// larger than max_message_bytes allows closes that one connection and is
// counted in TcpStats; the process never crashes and other peers carry on.
// The io::Network contract is unreliable, and this implementation uses that
// freedom: frames queued for a connection that breaks are re-sent on the
// next connection except the one that was partly written, which is dropped;
// messages arriving at a full inbox are dropped and counted.
//
// Everything runs on the EventLoop thread, non-blocking, driven by FdWatcher
// callbacks and loop timers; only Receive parks a fiber. The TcpNetwork must
// outlive its Endpoints, and both must be destroyed on the loop's thread
// while no fiber waits in Receive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "core/io/network.h"
#include "core/posix/event_loop.h"

namespace faultline::posix {

struct TcpNetworkOptions {
  size_t max_message_bytes = 1 << 20;
  // Bytes of encoded frames queued for one destination (including a frame
  // being written); Send returns ResourceExhausted beyond.
  size_t max_queued_bytes_per_peer = 8 << 20;
  // Messages received but not yet taken by Receive, per endpoint.
  size_t max_inbox_messages = 4096;
  // Destinations one endpoint keeps connections (and queues) for.
  size_t max_peers_per_endpoint = 1024;
  // Inbound connections one endpoint accepts at once; more are refused.
  size_t max_inbound_connections = 1024;
  // Reconnect backoff: doubles from min to max after each failed attempt,
  // back to min once a connection is established.
  int64_t reconnect_backoff_min_ns = 10'000'000;     // 10 ms
  int64_t reconnect_backoff_max_ns = 1'000'000'000;  // 1 s
};

// Counters, cumulative over the network's life. Never reset.
struct TcpStats {
  uint64_t frames_sent = 0;              // frames fully written to a socket
  uint64_t frames_received = 0;          // valid frames delivered or dropped at a full inbox
  uint64_t frames_rejected = 0;          // bad magic, bad length, bad checksum, bad address
  uint64_t frames_dropped_on_reset = 0;  // partly written when the connection broke
  uint64_t messages_dropped_inbox_full = 0;
  uint64_t sends_rejected_queue_full = 0;
  uint64_t connections_opened = 0;  // outbound connects that succeeded
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // inbound beyond max_inbound_connections
  uint64_t connect_failures = 0;     // outbound connects that failed
  uint64_t connections_closed = 0;   // any established connection closed, for any reason
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class TcpNetwork final : public io::Network {
 public:
  TcpNetwork(EventLoop& loop, const TcpNetworkOptions& options = {});
  ~TcpNetwork() override;
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;

  // Binds and listens. InvalidArgument for an unparsable address,
  // AlreadyExists if this network or another process holds it.
  absl::StatusOr<std::unique_ptr<io::Endpoint>> Listen(const io::Address& address) override;
  size_t max_message_bytes() const override { return options_.max_message_bytes; }

  const TcpStats& stats() const { return stats_; }
  const TcpNetworkOptions& options() const { return options_; }

 private:
  friend class TcpEndpoint;
  EventLoop& loop_;
  const TcpNetworkOptions options_;
  TcpStats stats_;
  std::set<io::Address> bound_;  // addresses of live endpoints
};

}  // namespace faultline::posix
