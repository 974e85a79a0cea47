// core/posix/internal/tcp_outbound.cc — see tcp_outbound.h.
#include "core/posix/internal/tcp_outbound.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/posix/internal/tcp_frame.h"

namespace faultline::posix::internal {
namespace {

constexpr int kMaxFramesPerFlush = 64;  // then yield to other fds (level-triggered)

}  // namespace

struct TcpOutbound::Peer {
  enum class State { kIdle, kConnecting, kConnected, kBackoff };
  io::Address address;
  SocketAddress socket_address;
  State state = State::kIdle;
  int fd = -1;
  uint64_t generation = 0;  // bumped per connection; stale callbacks check it
  std::unique_ptr<FdWatcher> watcher;
  std::deque<std::string> queue;  // encoded frames; bounded by queued_bytes
  size_t queued_bytes = 0;
  size_t head_written_bytes = 0;  // of queue.front()
  int64_t backoff_ns = 0;
  int64_t connected_at_ns = 0;
  int64_t last_send_ns = 0;
  std::optional<EventLoop::TimerId> timer;
};

TcpOutbound::TcpOutbound(TcpShared& shared, std::string self, const SocketAddress& self_socket)
    : shared_(shared), self_(std::move(self)), self_socket_(self_socket) {}

TcpOutbound::~TcpOutbound() {
  for (auto& [address, peer] : peers_) {
    if (peer->timer.has_value()) shared_.loop.CancelTimer(*peer->timer);
    if (peer->fd >= 0) CloseOutbound(*peer);
  }
  graveyard_.clear();
}

absl::Status TcpOutbound::Send(const io::Address& to, std::string_view payload) {
  graveyard_.clear();
  const TcpNetworkOptions& options = shared_.options;
  if (payload.size() > options.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("message of ", payload.size(),
                                                   " bytes exceeds max_message_bytes ",
                                                   options.max_message_bytes));
  }
  absl::StatusOr<Peer*> found = FindOrAdd(to);
  if (!found.ok()) return found.status();
  Peer& peer = **found;
  peer.last_send_ns = shared_.loop.NowNs();
  const size_t frame_bytes = FrameBytes(self_.size(), payload.size());
  if (peer.queued_bytes + frame_bytes > options.max_queued_bytes_per_peer) {
    ++shared_.stats.sends_rejected_queue_full;
    return absl::ResourceExhaustedError(
        absl::StrCat("send queue to ", to, " is full (", peer.queued_bytes, " bytes)"));
  }
  peer.queue.push_back(EncodeFrame(*shared_.mac, self_, payload));
  peer.queued_bytes += frame_bytes;
  switch (peer.state) {
    case Peer::State::kIdle:
      StartConnect(peer);
      break;
    case Peer::State::kConnected:
      Flush(peer);
      break;
    case Peer::State::kConnecting:
    case Peer::State::kBackoff:
      break;  // sent once connected
  }
  return absl::OkStatus();
}

absl::StatusOr<TcpOutbound::Peer*> TcpOutbound::FindOrAdd(const io::Address& to) {
  auto it = peers_.find(to);
  if (it != peers_.end()) return it->second.get();
  absl::StatusOr<SocketAddress> parsed = ParseAddress(to);
  if (!parsed.ok()) return parsed.status();
  if (peers_.size() >= shared_.options.max_peers_per_endpoint && !EvictOne()) {
    return absl::ResourceExhaustedError(
        "too many destinations for one endpoint, all connected and busy");
  }
  auto owned = std::make_unique<Peer>();
  owned->address = to;
  owned->socket_address = *parsed;
  owned->backoff_ns = shared_.options.reconnect_backoff_min_ns;
  Peer* peer = owned.get();
  peers_.emplace(to, std::move(owned));
  return peer;
}

bool TcpOutbound::EvictOne() {
  // Least recently sent to among the unconnected, else among the connected
  // with nothing queued. Bounded by the table.
  auto best = peers_.end();
  auto best_idle = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    const Peer& peer = *it->second;
    if (peer.state != Peer::State::kConnected) {
      if (best == peers_.end() || peer.last_send_ns < best->second->last_send_ns) best = it;
    } else if (peer.queue.empty()) {
      if (best_idle == peers_.end() || peer.last_send_ns < best_idle->second->last_send_ns) {
        best_idle = it;
      }
    }
  }
  if (best == peers_.end()) best = best_idle;
  if (best == peers_.end()) return false;
  Evict(best);
  return true;
}

void TcpOutbound::Evict(Iterator it) {
  Peer& peer = *it->second;
  ++shared_.stats.peers_evicted;
  shared_.stats.frames_dropped_on_evict += peer.queue.size();
  if (peer.timer.has_value()) shared_.loop.CancelTimer(*peer.timer);
  if (peer.state == Peer::State::kConnected) ++shared_.stats.connections_closed;
  if (peer.fd >= 0) CloseOutbound(peer);
  peers_.erase(it);
}

void TcpOutbound::Sweep(int64_t now_ns) {
  graveyard_.clear();
  // Bounded by the table; erasing the current entry only.
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto next = std::next(it);
    if (now_ns - it->second->last_send_ns >= shared_.options.peer_idle_timeout_ns) Evict(it);
    it = next;
  }
}

void TcpOutbound::StartConnect(Peer& peer) {
  FAULTLINE_CHECK(peer.fd < 0);
  if (!shared_.MayOpenSocket()) {
    ConnectFailed(peer);
    return;
  }
  const int fd = socket(peer.socket_address.storage.ss_family,
                        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ConnectFailed(peer);
    return;
  }
  shared_.SocketOpened(/*inbound=*/false);
  SetNoDelay(fd);
  SetDeadPeerTimeouts(fd, shared_.options.outbound_user_timeout_ns);
  peer.fd = fd;
  ++peer.generation;
  peer.watcher = std::make_unique<FdWatcher>(shared_.loop, fd);
  Peer* target = &peer;
  const uint64_t generation = peer.generation;
  peer.watcher->SetCallback(
      [this, target, generation](uint32_t events) { OnPeerEvent(*target, generation, events); });
  if (!BindSource(fd, self_socket_, peer.socket_address)) {
    CloseOutbound(peer);
    ConnectFailed(peer);
    return;
  }
  const int result = connect(fd, reinterpret_cast<const sockaddr*>(&peer.socket_address.storage),
                             peer.socket_address.length);
  if (result == 0) {
    OnConnected(peer);
  } else if (errno == EINPROGRESS) {
    peer.state = Peer::State::kConnecting;
    peer.watcher->SetInterest(/*readable=*/false, /*writable=*/true);
  } else {
    CloseOutbound(peer);
    ConnectFailed(peer);
  }
}

void TcpOutbound::OnPeerEvent(Peer& peer, uint64_t generation, uint32_t events) {
  graveyard_.clear();
  if (peer.generation != generation || peer.fd < 0) return;  // a stale connection
  if (peer.state == Peer::State::kConnecting) {
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(peer.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
      CloseOutbound(peer);
      ConnectFailed(peer);
      return;
    }
    OnConnected(peer);
    return;
  }
  if (peer.state != Peer::State::kConnected) return;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    // Receivers never write on this connection: readable means closed
    // (EOF or error), or a destination that is no TcpNetwork receiver.
    // Reading what it streams would keep the loop busy forever: a byte
    // breaks the connection like an EOF.
    char scratch[1];
    const ssize_t got = recv(peer.fd, scratch, sizeof(scratch), 0);
    if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      ConnectionBroken(peer);
      return;
    }
  }
  if ((events & EPOLLOUT) != 0) Flush(peer);
}

void TcpOutbound::OnConnected(Peer& peer) {
  if (IsConnectedToItself(peer.fd)) {
    // Nobody listens on the destination port and it became our source port:
    // keeping this would swallow our frames and hold the real peer's port.
    ++shared_.stats.self_connects;
    AbortOnClose(peer.fd);  // no FIN/TIME_WAIT: free the port at once
    CloseOutbound(peer);
    ConnectFailed(peer);
    return;
  }
  peer.state = Peer::State::kConnected;
  peer.connected_at_ns = shared_.loop.NowNs();
  ++shared_.stats.connections_opened;
  Flush(peer);
}

// Writes queued frames until the socket is full, the queue is empty, or
// kMaxFramesPerFlush frames went out (then the writable event resumes).
void TcpOutbound::Flush(Peer& peer) {
  FAULTLINE_CHECK(peer.state == Peer::State::kConnected);
  for (int i = 0; i < kMaxFramesPerFlush && !peer.queue.empty(); ++i) {
    const std::string& frame = peer.queue.front();
    FAULTLINE_CHECK(peer.head_written_bytes < frame.size());
    const ssize_t put = send(peer.fd, frame.data() + peer.head_written_bytes,
                             frame.size() - peer.head_written_bytes, MSG_NOSIGNAL);
    if (put < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      ConnectionBroken(peer);
      return;
    }
    shared_.stats.bytes_sent += static_cast<uint64_t>(put);
    peer.head_written_bytes += static_cast<size_t>(put);
    if (peer.head_written_bytes == frame.size()) {
      peer.queued_bytes -= frame.size();
      peer.queue.pop_front();
      peer.head_written_bytes = 0;
      ++shared_.stats.frames_sent;
    }
  }
  peer.watcher->SetInterest(/*readable=*/true, /*writable=*/!peer.queue.empty());
}

void TcpOutbound::ConnectionBroken(Peer& peer) {
  ++shared_.stats.connections_closed;
  if (peer.head_written_bytes > 0) {
    // The receiver discards a partial frame with its connection; resending
    // it whole could duplicate it only if it had been complete. Drop it.
    ++shared_.stats.frames_dropped_on_reset;
    peer.queued_bytes -= peer.queue.front().size();
    peer.queue.pop_front();
    peer.head_written_bytes = 0;
  }
  CloseOutbound(peer);
  // A connection that died sooner than the backoff proved little (e.g. the
  // receiver refused it): the backoff keeps growing, as after a failed
  // connect. One that lived longer resets it.
  const bool lived = shared_.loop.NowNs() - peer.connected_at_ns >= peer.backoff_ns;
  if (lived) peer.backoff_ns = shared_.options.reconnect_backoff_min_ns;
  ScheduleReconnect(peer, /*grow_backoff=*/!lived);
}

void TcpOutbound::ConnectFailed(Peer& peer) {
  ++shared_.stats.connect_failures;
  ScheduleReconnect(peer, /*grow_backoff=*/true);
}

void TcpOutbound::ScheduleReconnect(Peer& peer, bool grow_backoff) {
  FAULTLINE_CHECK(peer.fd < 0 && !peer.timer.has_value());
  peer.state = Peer::State::kBackoff;
  Peer* target = &peer;
  peer.timer = shared_.loop.AddTimer(runtime::DeadlineAfter(shared_.loop.NowNs(), peer.backoff_ns),
                                     [this, target] { OnReconnectTimer(*target); });
  if (grow_backoff) {
    // Compared before doubling: a maximum near the largest duration must
    // not overflow it.
    const int64_t max_ns = shared_.options.reconnect_backoff_max_ns;
    peer.backoff_ns = peer.backoff_ns > max_ns / 2 ? max_ns : peer.backoff_ns * 2;
  }
}

void TcpOutbound::OnReconnectTimer(Peer& peer) {
  graveyard_.clear();
  peer.timer.reset();
  FAULTLINE_CHECK(peer.state == Peer::State::kBackoff);
  if (peer.queue.empty()) {
    peer.state = Peer::State::kIdle;  // connect again on the next Send
    return;
  }
  StartConnect(peer);
}

void TcpOutbound::CloseOutbound(Peer& peer) {
  FAULTLINE_CHECK(peer.fd >= 0);
  peer.watcher->SetInterest(false, false);
  graveyard_.push_back(std::move(peer.watcher));
  close(peer.fd);
  shared_.SocketClosed(/*inbound=*/false);
  peer.fd = -1;
  ++peer.generation;
  peer.state = Peer::State::kIdle;
}

}  // namespace faultline::posix::internal
