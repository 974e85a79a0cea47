// core/posix/internal/tcp_outbound.h — the sending side of one TCP endpoint:
// one connection and one bounded queue of encoded frames per destination.
//
// A destination's connection is opened on the first Send and re-opened with
// exponential backoff after a failure. The backoff grows after every failed
// connect and after every connection that died sooner than the backoff it
// had (a receiver that accepts and closes at once is not a success); it
// returns to the minimum only once a connection lived at least that long.
// A connect that reached its own socket (the destination port was free and
// became the source port) is a failed connect. Connections are bound to the
// endpoint's host, so receivers can check the host frames claim, and get
// TCP_USER_TIMEOUT and keepalive so a vanished receiver is noticed.
//
// The destination table is bounded: a destination not sent to for
// peer_idle_timeout_ns is dropped by Sweep(), and at max_peers_per_endpoint
// a new destination evicts the least recently used one that is not
// connected, else one that is connected with nothing queued.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/network.h"
#include "core/posix/event_loop.h"
#include "core/posix/internal/tcp_shared.h"
#include "core/posix/internal/tcp_socket.h"

namespace faultline::posix::internal {

class TcpOutbound {
 public:
  // `self` is the endpoint's listen address: the `from` of its frames and
  // the source host of its connections.
  TcpOutbound(TcpShared& shared, std::string self, const SocketAddress& self_socket);
  ~TcpOutbound();
  TcpOutbound(const TcpOutbound&) = delete;
  TcpOutbound& operator=(const TcpOutbound&) = delete;

  // io::Endpoint::Send: InvalidArgument for a bad address or payload,
  // ResourceExhausted for a full queue or a full table of busy peers.
  absl::Status Send(const io::Address& to, std::string_view payload);
  // Drops destinations not sent to for peer_idle_timeout_ns.
  void Sweep(int64_t now_ns);

 private:
  struct Peer;
  using Iterator = std::map<io::Address, std::unique_ptr<Peer>>::iterator;

  absl::StatusOr<Peer*> FindOrAdd(const io::Address& to);
  bool EvictOne();
  void Evict(Iterator it);
  void StartConnect(Peer& peer);
  void OnPeerEvent(Peer& peer, uint64_t generation, uint32_t events);
  void OnConnected(Peer& peer);
  void Flush(Peer& peer);
  void ConnectionBroken(Peer& peer);
  void ConnectFailed(Peer& peer);
  void ScheduleReconnect(Peer& peer, bool grow_backoff);
  void OnReconnectTimer(Peer& peer);
  void CloseOutbound(Peer& peer);

  TcpShared& shared_;
  const std::string self_;
  const SocketAddress self_socket_;
  std::map<io::Address, std::unique_ptr<Peer>> peers_;
  // Watchers of closed connections, kept until no callback of theirs can be
  // running; emptied at every entry point. Bounded by the connections.
  std::vector<std::unique_ptr<FdWatcher>> graveyard_;
};

}  // namespace faultline::posix::internal
