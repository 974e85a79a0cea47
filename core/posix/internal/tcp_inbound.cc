// core/posix/internal/tcp_inbound.cc — see tcp_inbound.h.
#include "core/posix/internal/tcp_inbound.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "core/base/check.h"
#include "core/posix/internal/tcp_socket.h"

namespace faultline::posix::internal {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;  // then yield to other fds (level-triggered)
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int64_t kNoFrame = -1;

bool OutOfResources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

struct TcpInbound::Connection {
  Connection(uint64_t connection_id, size_t max_message_bytes, const FrameMac& mac)
      : id(connection_id), decoder(max_message_bytes, mac) {}
  const uint64_t id;
  int fd = -1;
  sockaddr_storage source{};
  std::string host_key;
  bool authenticated = false;
  int64_t last_byte_ns = 0;
  int64_t frame_started_ns = kNoFrame;  // when the incomplete frame began
  size_t counted_bytes = 0;             // decoder bytes in buffered_bytes_
  std::string checked_from;             // the last `from` found to match source
  std::unique_ptr<FdWatcher> watcher;
  FrameDecoder decoder;
};

TcpInbound::TcpInbound(TcpShared& shared, int listen_fd,
                       absl::AnyInvocable<void(io::Message)> deliver)
    : shared_(shared),
      listen_fd_(listen_fd),
      deliver_(std::move(deliver)),
      read_chunk_(kReadChunkBytes) {
  listen_watcher_ = std::make_unique<FdWatcher>(shared_.loop, listen_fd_);
  listen_watcher_->SetCallback([this](uint32_t) { OnAcceptable(); });
  listen_watcher_->SetInterest(/*readable=*/true, /*writable=*/false);
  shared_.inbounds.push_back(this);
}

TcpInbound::~TcpInbound() {
  std::erase(shared_.inbounds, this);
  if (accept_pause_timer_.has_value()) shared_.loop.CancelTimer(*accept_pause_timer_);
  listen_watcher_.reset();
  close(listen_fd_);
  shared_.SocketClosed(/*inbound=*/false);
  for (auto& [id, connection] : connections_) Close(*connection);
  graveyard_.clear();
}

void TcpInbound::OnAcceptable() {
  graveyard_.clear();
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    sockaddr_storage source{};
    socklen_t length = sizeof(source);
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&source), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR || error == ECONNABORTED) continue;
      ++shared_.stats.accept_failures;
      // Level-triggered: the pending connection keeps the socket readable,
      // so retrying at once would spin until a descriptor frees up.
      if (OutOfResources(error)) PauseAccepting();
      return;
    }
    if (!MakeRoom(CapKey(source))) {
      ++shared_.stats.connections_refused;
      close(fd);
      continue;
    }
    Adopt(fd, source);
  }
}

void TcpInbound::PauseAccepting() {
  if (accept_pause_timer_.has_value()) return;
  listen_watcher_->SetInterest(false, false);
  const int64_t deadline_ns =
      runtime::DeadlineAfter(shared_.loop.NowNs(), shared_.options.accept_pause_ns);
  accept_pause_timer_ = shared_.loop.AddTimer(deadline_ns, [this] {
    accept_pause_timer_.reset();
    listen_watcher_->SetInterest(/*readable=*/true, /*writable=*/false);
  });
}

bool TcpInbound::MakeRoom(const std::string& host_key) {
  auto from_host = unauthenticated_by_host_.find(host_key);
  if (from_host != unauthenticated_by_host_.end() &&
      from_host->second.size() >= shared_.options.max_unauthenticated_per_host) {
    EvictOldest(from_host->second);
  }
  // Bounded: each round removes one connection from some endpoint's
  // unauthenticated ones.
  while (connections_.size() >= shared_.options.max_inbound_connections ||
         !shared_.MayAcceptInbound()) {
    // A full table needs room here; a spent descriptor budget is shared, so
    // it is taken from the endpoint with the most unauthenticated
    // connections (this one on a tie): a flood on one endpoint must not
    // lock members out of the others.
    TcpInbound& holder = connections_.size() >= shared_.options.max_inbound_connections
                             ? *this
                             : MostUnauthenticated();
    if (!holder.unauthenticated_.empty()) {
      holder.EvictOldest(holder.unauthenticated_);
    } else if (!holder.EvictSupersededSender()) {
      return false;
    }
  }
  return true;
}

bool TcpInbound::EvictSupersededSender() {
  // Bounded by the table (twice). Ids ascend, so the last one wins.
  std::map<std::string_view, uint64_t> newest_by_from;
  for (const auto& [id, connection] : connections_) {
    if (!connection->checked_from.empty()) newest_by_from[connection->checked_from] = id;
  }
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    const std::string& from = it->second->checked_from;
    if (from.empty() || newest_by_from.find(from)->second == it->first) continue;
    ++shared_.stats.connections_evicted;
    Drop(it);
    return true;
  }
  return false;
}

TcpInbound& TcpInbound::MostUnauthenticated() {
  TcpInbound* most = this;
  for (TcpInbound* inbound : shared_.inbounds) {  // bounded by the endpoints
    if (inbound->unauthenticated_.size() > most->unauthenticated_.size()) most = inbound;
  }
  return *most;
}

void TcpInbound::EvictOldest(const std::set<uint64_t>& ids) {
  FAULTLINE_CHECK(!ids.empty());
  auto it = connections_.find(*ids.begin());
  FAULTLINE_CHECK(it != connections_.end());
  // A member's connection may have its first frame waiting, unread, while
  // a flood is accepted: read it first. If that authenticates it (or
  // closes it), it left the unauthenticated sets, which is room too.
  const uint64_t id = it->first;
  if (!ReadAvailable(it) || unauthenticated_.count(id) == 0) return;
  ++shared_.stats.connections_evicted;
  Drop(it);
}

void TcpInbound::Adopt(int fd, const sockaddr_storage& source) {
  ++shared_.stats.connections_accepted;
  shared_.SocketOpened(/*inbound=*/true);
  SetNoDelay(fd);
  const uint64_t id = next_id_++;
  auto connection =
      std::make_unique<Connection>(id, shared_.options.max_message_bytes, *shared_.mac);
  connection->fd = fd;
  connection->source = source;
  connection->host_key = CapKey(source);
  connection->last_byte_ns = shared_.loop.NowNs();
  connection->watcher = std::make_unique<FdWatcher>(shared_.loop, fd);
  connection->watcher->SetCallback([this, id](uint32_t) { OnReadable(id); });
  connection->watcher->SetInterest(/*readable=*/true, /*writable=*/false);
  unauthenticated_.insert(id);
  unauthenticated_by_host_[connection->host_key].insert(id);
  connections_.emplace(id, std::move(connection));
}

void TcpInbound::OnReadable(uint64_t id) {
  graveyard_.clear();
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // closed earlier in this poll
  (void)ReadAvailable(it);
}

bool TcpInbound::ReadAvailable(Iterator it) {
  Connection& connection = *it->second;
  const int64_t now_ns = shared_.loop.NowNs();
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    const ssize_t got = recv(connection.fd, read_chunk_.data(), read_chunk_.size(), 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (got <= 0) {  // the sender closed, or the connection failed
      Drop(it);
      return false;
    }
    shared_.stats.bytes_received += static_cast<uint64_t>(got);
    connection.last_byte_ns = now_ns;
    connection.decoder.Append(read_chunk_.data(), static_cast<size_t>(got));
    if (!DecodeFrames(it, now_ns)) return false;
  }
  return true;
}

bool TcpInbound::DecodeFrames(Iterator it, int64_t now_ns) {
  Connection& connection = *it->second;
  bool completed_one = false;
  // Bounded: each frame consumes at least a header of the bytes buffered.
  while (true) {
    FrameDecoder::Result result = connection.decoder.Next();
    if (result.kind == FrameDecoder::Kind::kNeedMore) break;
    if (result.kind != FrameDecoder::Kind::kFrame) {
      ++(result.kind == FrameDecoder::Kind::kForged ? shared_.stats.frames_forged
                                                    : shared_.stats.frames_rejected);
      Drop(it);
      return false;
    }
    if (!FromMatchesSource(connection, result.from)) {
      ++shared_.stats.frames_wrong_host;
      Drop(it);
      return false;
    }
    ++shared_.stats.frames_received;
    completed_one = true;
    if (!connection.authenticated) {
      connection.authenticated = true;
      Unlist(connection);
    }
    deliver_(io::Message{.from = std::move(result.from), .payload = std::move(result.payload)});
  }
  const size_t buffered = connection.decoder.buffered_bytes();
  if (buffered == 0) {
    connection.frame_started_ns = kNoFrame;
  } else if (completed_one || connection.frame_started_ns == kNoFrame) {
    connection.frame_started_ns = now_ns;
  }
  buffered_bytes_ = buffered_bytes_ - connection.counted_bytes + buffered;
  connection.counted_bytes = buffered;
  return FitBuffered(it);
}

bool TcpInbound::FitBuffered(Iterator it) {
  const size_t bound = shared_.options.max_inbound_buffered_bytes;
  if (it->second->authenticated) {
    // Bounded by the unauthenticated connections; erasing the current entry
    // only (Drop unlists it), after stepping past it.
    for (auto next = unauthenticated_.begin();
         buffered_bytes_ > bound && next != unauthenticated_.end();) {
      auto victim = connections_.find(*next++);
      FAULTLINE_CHECK(victim != connections_.end() && victim != it);
      if (victim->second->counted_bytes == 0) continue;
      ++shared_.stats.connections_over_memory;
      Drop(victim);
    }
  }
  if (buffered_bytes_ <= bound) return true;
  ++shared_.stats.connections_over_memory;
  Drop(it);
  return false;
}

bool TcpInbound::FromMatchesSource(Connection& connection, const std::string& from) {
  if (from == connection.checked_from) return true;
  absl::StatusOr<SocketAddress> claimed = ParseAddress(from);
  if (!claimed.ok() || !SameHost(claimed->storage, connection.source)) return false;
  connection.checked_from = from;
  return true;
}

void TcpInbound::Unlist(Connection& connection) {
  if (unauthenticated_.erase(connection.id) == 0) return;
  auto from_host = unauthenticated_by_host_.find(connection.host_key);
  FAULTLINE_CHECK(from_host != unauthenticated_by_host_.end());
  from_host->second.erase(connection.id);
  if (from_host->second.empty()) unauthenticated_by_host_.erase(from_host);
}

void TcpInbound::Sweep(int64_t now_ns) {
  graveyard_.clear();
  const TcpNetworkOptions& options = shared_.options;
  // Bounded by the connections; erasing the current entry only.
  for (auto it = connections_.begin(); it != connections_.end();) {
    const Connection& connection = *it->second;
    const bool idle = now_ns - connection.last_byte_ns >= options.inbound_idle_timeout_ns;
    const bool stuck = connection.frame_started_ns != kNoFrame &&
                       now_ns - connection.frame_started_ns >= options.inbound_frame_timeout_ns;
    auto next = std::next(it);
    if (idle || stuck) {
      ++shared_.stats.connections_timed_out;
      Drop(it);
    }
    it = next;
  }
}

void TcpInbound::Drop(Iterator it) {
  ++shared_.stats.connections_closed;
  Connection& connection = *it->second;
  Unlist(connection);
  buffered_bytes_ -= connection.counted_bytes;
  Close(connection);
  connections_.erase(it);
}

void TcpInbound::Close(Connection& connection) {
  // The watcher may be the one whose callback is running: keep the object
  // alive until the next entry point, but stop its events now.
  connection.watcher->SetInterest(false, false);
  graveyard_.push_back(std::move(connection.watcher));
  close(connection.fd);
  connection.fd = -1;
  shared_.SocketClosed(/*inbound=*/true);
}

}  // namespace faultline::posix::internal
