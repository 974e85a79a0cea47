// core/posix/tcp_network.h — io::Network over TCP.
//
// Addresses are "host:port" with a numeric IPv4 host ("127.0.0.1:7000"), a
// bracketed numeric IPv6 host ("[::1]:7000"), or "localhost". Listen on port
// 0 picks a free port; the Endpoint's address() then names the real one.
// The listen address is what receivers see as Message::from and reply to,
// so listen on an address peers can reach (not a wildcard like 0.0.0.0):
// outbound connections are bound to its host, and receivers check that a
// frame's claimed host is the connection's source.
//
// Each Endpoint sends over its own outbound connections, one per destination,
// opened on the first Send and re-opened with exponential backoff after a
// failure; it receives on the connections others open to its listen socket.
// Frames are length-prefixed, CRC32C-checksummed, authenticated with
// HMAC-SHA256 under the cluster's pre-shared key, and carry the sender's
// listen address (core/posix/tcp_frame_format.md, which also states the
// threat model), so Message::from names the peer to reply to.
//
// Faults and hostile peers are contained: a frame that is garbage, fails its
// checksum or tag, claims a host other than its source or is too large closes
// that one connection and is counted in TcpStats; connections that stay idle
// or trickle a frame are closed on timeouts; unauthenticated connections are
// capped per source host and evicted first when the table is full; memory
// (inbox, partial frames) and file descriptors are bounded. The process never
// crashes and other peers carry on. The io::Network contract is unreliable,
// and this implementation uses that freedom: frames queued for a connection
// that breaks are re-sent on the next connection except the one that was
// partly written, which is dropped; messages arriving at a full inbox are
// dropped and counted; an evicted destination's queue is dropped.
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
#include "core/io/clock.h"
#include "core/io/network.h"
#include "core/posix/event_loop.h"

namespace faultline::posix {

namespace internal {
class TcpShared;
}

struct TcpNetworkOptions {
  // The cluster's pre-shared key: every frame carries an HMAC-SHA256 tag
  // under it, and a frame with a wrong tag is rejected. All nodes of a
  // cluster use the same key; keep it secret (e.g. 32 random bytes from a
  // secrets store). Listen refuses a key shorter than kMinClusterKeyBytes,
  // the empty default included: there is no unauthenticated mode (tests use
  // a fixed test key).
  std::string cluster_key;
  static constexpr size_t kMinClusterKeyBytes = 16;

  size_t max_message_bytes = 1 << 20;
  // Bytes of encoded frames queued for one destination (including a frame
  // being written); Send returns ResourceExhausted beyond.
  size_t max_queued_bytes_per_peer = 8 << 20;
  // Messages, and bytes of `from` + payload, received but not yet taken by
  // Receive, per endpoint; beyond either, arriving messages are dropped.
  size_t max_inbox_messages = 4096;
  size_t max_inbox_bytes = 64 << 20;
  // Bytes of partly received frames buffered across one endpoint's inbound
  // connections. Bytes that would exceed it close unauthenticated
  // connections holding partial frames (oldest first) when they came on an
  // authenticated connection, else the connection they came on.
  size_t max_inbound_buffered_bytes = 64 << 20;
  // Destinations one endpoint keeps connections (and queues) for. At the
  // bound, a new destination evicts the least recently used one that is not
  // connected, else one connected with nothing queued.
  size_t max_peers_per_endpoint = 1024;
  // Inbound connections one endpoint holds at once. At the bound, a new one
  // evicts the oldest connection that has not yet delivered an
  // authenticated frame, else the oldest whose sender address a newer
  // connection also claims, or is refused if there is none.
  size_t max_inbound_connections = 256;
  // Connections from one source host (an IPv4 address, or an IPv6 /64)
  // that have not yet delivered an authenticated frame; a new one beyond
  // evicts the oldest of them.
  size_t max_unauthenticated_per_host = 8;
  // File descriptors the network leaves to the rest of the process (files):
  // its sockets stay below getrlimit(RLIMIT_NOFILE) (soft, read when the
  // network is made) minus this, and inbound connections of all endpoints
  // together below half of that, so remote peers can neither starve the
  // disk nor the outbound connections. When that half is spent, a new
  // connection evicts the oldest unauthenticated one of the endpoint that
  // holds the most.
  size_t reserved_fds = 256;
  // An inbound connection with no byte for this long is closed; one whose
  // frame started this long ago and is still incomplete is closed.
  int64_t inbound_idle_timeout_ns = 60 * io::kNanosPerSecond;
  int64_t inbound_frame_timeout_ns = 10 * io::kNanosPerSecond;
  // A destination not sent to for this long is dropped (connection closed,
  // anything still queued dropped and counted).
  int64_t peer_idle_timeout_ns = 300 * io::kNanosPerSecond;
  // Outbound connections: TCP_USER_TIMEOUT (unacknowledged data for this
  // long breaks the connection) and keepalive probes that notice a vanished
  // receiver within about this long while nothing is sent.
  int64_t outbound_user_timeout_ns = 30 * io::kNanosPerSecond;
  // Reconnect backoff: doubles from min to max after each failed attempt
  // and after each connection that died sooner than the backoff it had
  // (e.g. a receiver that refuses it); back to min only after a connection
  // lived at least that long.
  int64_t reconnect_backoff_min_ns = 10'000'000;     // 10 ms
  int64_t reconnect_backoff_max_ns = 1'000'000'000;  // 1 s
  // When accept fails for want of descriptors or memory (EMFILE, ENFILE,
  // ENOBUFS, ENOMEM), the listen socket is not watched for this long.
  int64_t accept_pause_ns = 50'000'000;  // 50 ms
};

// Counters, cumulative over the network's life. Never reset.
struct TcpStats {
  uint64_t frames_sent = 0;              // frames fully written to a socket
  uint64_t frames_received = 0;          // valid frames delivered or dropped at a full inbox
  uint64_t frames_rejected = 0;          // bad magic, length, checksum or address
  uint64_t frames_forged = 0;            // wrong HMAC tag (wrong or no cluster key)
  uint64_t frames_wrong_host = 0;        // `from` names a host other than the source
  uint64_t frames_dropped_on_reset = 0;  // partly written when the connection broke
  uint64_t frames_dropped_on_evict = 0;  // queued for a destination that was dropped
  uint64_t messages_dropped_inbox_full = 0;
  uint64_t sends_rejected_queue_full = 0;
  uint64_t connections_opened = 0;  // outbound connects that succeeded
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;    // inbound at a full table with nothing to evict
  uint64_t connections_evicted = 0;    // inbound unauthenticated, closed to make room
  uint64_t connections_timed_out = 0;  // inbound idle or stuck in a frame
  uint64_t connections_over_memory = 0;  // inbound beyond max_inbound_buffered_bytes
  uint64_t connect_failures = 0;     // outbound connects that failed
  uint64_t self_connects = 0;        // outbound connects that reached their own socket
  uint64_t connections_closed = 0;   // any established connection closed, for any reason
  uint64_t peers_evicted = 0;        // destinations dropped (idle, or to make room)
  uint64_t accept_failures = 0;      // accept errors other than "nothing pending"
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class TcpNetwork final : public io::Network {
 public:
  TcpNetwork(EventLoop& loop, const TcpNetworkOptions& options);
  ~TcpNetwork() override;
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;

  // Binds and listens. InvalidArgument for an unparsable address or a
  // cluster_key shorter than kMinClusterKeyBytes, AlreadyExists if this
  // network or another process holds the address, ResourceExhausted if
  // RLIMIT_NOFILE leaves no descriptors beyond reserved_fds.
  absl::StatusOr<std::unique_ptr<io::Endpoint>> Listen(const io::Address& address) override;
  size_t max_message_bytes() const override;

  const TcpStats& stats() const;
  const TcpNetworkOptions& options() const;

 private:
  friend class TcpEndpoint;
  EventLoop& loop_;
  std::unique_ptr<internal::TcpShared> shared_;
  std::set<io::Address> bound_;  // addresses of live endpoints
};

}  // namespace faultline::posix
