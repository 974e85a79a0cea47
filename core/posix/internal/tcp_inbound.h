// core/posix/internal/tcp_inbound.h — the receiving side of one TCP
// endpoint: its listen socket and the connections peers open to it.
//
// Defends the endpoint against peers that do not play by the rules:
//  * frames are checked (framing, checksum, cluster-key tag, claimed host
//    against the connection's source); any violation closes the connection;
//  * a connection counts as authenticated once it delivered a valid frame.
//    Unauthenticated ones are capped per source host, and evicted (oldest
//    first) when the table is full, so idle sockets cannot lock members out;
//    with none, an authenticated one whose `from` a newer one also claims
//    goes, so replaying a captured frame cannot hold every slot either;
//  * connections with no byte for inbound_idle_timeout_ns, or with a frame
//    started inbound_frame_timeout_ns ago and still incomplete, are closed
//    by Sweep();
//  * partial frames of all connections together stay within
//    max_inbound_buffered_bytes; an authenticated connection that needs
//    the room evicts unauthenticated ones holding bytes, oldest first;
//  * when accept fails for want of descriptors or memory, the listen socket
//    is not watched for accept_pause_ns (instead of spinning on it), and
//    the network's descriptor budget is never exceeded. When its inbound
//    half is spent, the endpoint holding the most unauthenticated
//    connections gives one up, whichever endpoint the new connection is for.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/io/network.h"
#include "core/posix/event_loop.h"
#include "core/posix/internal/tcp_frame.h"
#include "core/posix/internal/tcp_shared.h"

namespace faultline::posix::internal {

class TcpInbound {
 public:
  // Takes ownership of `listen_fd` (listening, non-blocking, counted in the
  // shared descriptor budget). `deliver` gets every valid frame.
  TcpInbound(TcpShared& shared, int listen_fd, absl::AnyInvocable<void(io::Message)> deliver);
  ~TcpInbound();
  TcpInbound(const TcpInbound&) = delete;
  TcpInbound& operator=(const TcpInbound&) = delete;

  // Closes connections past their idle or frame timeout.
  void Sweep(int64_t now_ns);

 private:
  struct Connection;
  using Iterator = std::map<uint64_t, std::unique_ptr<Connection>>::iterator;

  void OnAcceptable();
  void PauseAccepting();
  // Evicts unauthenticated connections until one from `host_key` fits;
  // false when it cannot (the caller refuses it).
  bool MakeRoom(const std::string& host_key);
  // Evicts the oldest authenticated connection whose `from` a newer one
  // also claims: a sender that reconnected, or a replayed frame holding a
  // slot. False if there is none.
  bool EvictSupersededSender();
  // The endpoint (of this network) holding the most unauthenticated
  // connections; this one on a tie.
  TcpInbound& MostUnauthenticated();
  void Adopt(int fd, const sockaddr_storage& source);
  // Evicts the oldest of `ids` (unauthenticated), unless reading what it
  // sent authenticates or closes it.
  void EvictOldest(const std::set<uint64_t>& ids);
  void OnReadable(uint64_t id);
  // Reads and decodes what is available (bounded); false if it was dropped.
  bool ReadAvailable(Iterator it);
  // Decodes what `connection` buffered; false if it was dropped.
  bool DecodeFrames(Iterator it, int64_t now_ns);
  // Brings the buffered bytes within max_inbound_buffered_bytes after `it`
  // buffered more: evicts unauthenticated connections holding bytes when
  // `it` is authenticated, then drops `it` if still over; false if dropped.
  bool FitBuffered(Iterator it);
  bool FromMatchesSource(Connection& connection, const std::string& from);
  // Removes `connection` from the unauthenticated sets, if it is there.
  void Unlist(Connection& connection);
  void Drop(Iterator it);
  void Close(Connection& connection);

  TcpShared& shared_;
  const int listen_fd_;
  std::unique_ptr<FdWatcher> listen_watcher_;
  std::optional<EventLoop::TimerId> accept_pause_timer_;
  absl::AnyInvocable<void(io::Message)> deliver_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;  // by id: oldest first
  std::set<uint64_t> unauthenticated_;
  std::map<std::string, std::set<uint64_t>> unauthenticated_by_host_;
  size_t buffered_bytes_ = 0;  // decoders' buffered bytes, summed
  std::vector<char> read_chunk_;
  // Watchers of closed connections, kept until no callback of theirs can be
  // running; emptied at every entry point. Bounded by the connections.
  std::vector<std::unique_ptr<FdWatcher>> graveyard_;
};

}  // namespace faultline::posix::internal
