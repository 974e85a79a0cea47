// core/posix/tcp_network.cc — see tcp_network.h and tcp_frame_format.md.
#include "core/posix/tcp_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/posix/internal/tcp_frame.h"
#include "core/runtime/channel.h"

namespace faultline::posix {
namespace {

absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

// A parsed "host:port".
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string host;  // as written, without brackets
  uint16_t port = 0;
};

absl::StatusOr<SocketAddress> ParseAddress(std::string_view address) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address \"", AsAbsl(address), "\": ", AsAbsl(why)));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("bad port");
  }
  SocketAddress parsed;
  parsed.port = static_cast<uint16_t>(port);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  parsed.host = std::string(host);
  const std::string numeric = host == "localhost" ? std::string("127.0.0.1") : std::string(host);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&parsed.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&parsed.storage);
  if (!bracketed && inet_pton(AF_INET, numeric.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(parsed.port);
    parsed.length = sizeof(sockaddr_in);
  } else if (bracketed && inet_pton(AF_INET6, numeric.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(parsed.port);
    parsed.length = sizeof(sockaddr_in6);
  } else {
    return invalid("host must be a numeric IPv4, a bracketed IPv6 address, or localhost");
  }
  return parsed;
}

std::string FormatAddress(const SocketAddress& address, uint16_t port) {
  const bool v6 = address.storage.ss_family == AF_INET6;
  return v6 ? absl::StrCat("[", address.host, "]:", port) : absl::StrCat(address.host, ":", port);
}

void SetNoDelay(int fd) {
  const int one = 1;
  // Frames are small and latency matters more than packet count; a failure
  // here only costs latency.
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;   // then yield to other fds (level-triggered)
constexpr int kMaxFramesPerFlush = 64;  // likewise for writes
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int kListenBacklog = 128;

}  // namespace

// --- one endpoint --------------------------------------------------------------

class TcpEndpoint final : public io::Endpoint {
 public:
  TcpEndpoint(TcpNetwork& network, io::Address address, int listen_fd)
      : network_(network),
        loop_(network.loop_),
        options_(network.options_),
        stats_(network.stats_),
        address_(std::move(address)),
        listen_fd_(listen_fd),
        inbox_(network.loop_, network.options_.max_inbox_messages) {
    listen_watcher_ = std::make_unique<FdWatcher>(loop_, listen_fd_);
    listen_watcher_->SetCallback([this](uint32_t) { OnAcceptable(); });
    listen_watcher_->SetInterest(/*readable=*/true, /*writable=*/false);
  }

  ~TcpEndpoint() override {
    listen_watcher_.reset();
    close(listen_fd_);
    for (auto& [id, connection] : inbound_) CloseInbound(*connection, /*count=*/false);
    for (auto& [address, peer] : peers_) {
      if (peer->timer.has_value()) loop_.CancelTimer(*peer->timer);
      if (peer->fd >= 0) CloseOutbound(*peer);
    }
    graveyard_.clear();
    network_.bound_.erase(address_);
  }

  const io::Address& address() const override { return address_; }

  absl::Status Send(const io::Address& to, std::string_view payload) override {
    graveyard_.clear();
    if (payload.size() > options_.max_message_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("message of ", payload.size(),
                                                     " bytes exceeds max_message_bytes ",
                                                     options_.max_message_bytes));
    }
    Peer* peer = nullptr;
    auto it = peers_.find(to);
    if (it != peers_.end()) {
      peer = it->second.get();
    } else {
      absl::StatusOr<SocketAddress> parsed = ParseAddress(to);
      if (!parsed.ok()) return parsed.status();
      if (peers_.size() >= options_.max_peers_per_endpoint) {
        return absl::ResourceExhaustedError("too many destinations for one endpoint");
      }
      auto owned = std::make_unique<Peer>();
      owned->address = to;
      owned->socket_address = *parsed;
      owned->backoff_ns = options_.reconnect_backoff_min_ns;
      peer = owned.get();
      peers_.emplace(to, std::move(owned));
    }
    const size_t frame_bytes = internal::FrameBytes(address_.size(), payload.size());
    if (peer->queued_bytes + frame_bytes > options_.max_queued_bytes_per_peer) {
      ++stats_.sends_rejected_queue_full;
      return absl::ResourceExhaustedError(
          absl::StrCat("send queue to ", to, " is full (", peer->queued_bytes, " bytes)"));
    }
    peer->queue.push_back(internal::EncodeFrame(address_, payload));
    peer->queued_bytes += frame_bytes;
    switch (peer->state) {
      case Peer::State::kIdle:
        StartConnect(*peer);
        break;
      case Peer::State::kConnected:
        Flush(*peer);
        break;
      case Peer::State::kConnecting:
      case Peer::State::kBackoff:
        break;  // sent once connected
    }
    return absl::OkStatus();
  }

  absl::StatusOr<io::Message> Receive(int64_t timeout_ns) override {
    FAULTLINE_CHECK(timeout_ns >= 0);
    return inbox_.Receive(runtime::DeadlineAfter(loop_.NowNs(), timeout_ns));
  }

 private:
  struct InboundConnection {
    uint64_t id = 0;
    int fd = -1;
    std::unique_ptr<FdWatcher> watcher;
    internal::FrameDecoder decoder;
    explicit InboundConnection(size_t max_message_bytes) : decoder(max_message_bytes) {}
  };

  struct Peer {
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
    std::optional<EventLoop::TimerId> timer;
  };

  // --- inbound -------------------------------------------------------------

  void OnAcceptable() {
    graveyard_.clear();
    for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error: the next event retries
      if (inbound_.size() >= options_.max_inbound_connections) {
        ++stats_.connections_refused;
        close(fd);
        continue;
      }
      ++stats_.connections_accepted;
      SetNoDelay(fd);
      auto connection = std::make_unique<InboundConnection>(options_.max_message_bytes);
      connection->id = next_inbound_id_++;
      connection->fd = fd;
      connection->watcher = std::make_unique<FdWatcher>(loop_, fd);
      const uint64_t id = connection->id;
      connection->watcher->SetCallback([this, id](uint32_t) { OnInboundReadable(id); });
      connection->watcher->SetInterest(/*readable=*/true, /*writable=*/false);
      inbound_.emplace(id, std::move(connection));
    }
  }

  void OnInboundReadable(uint64_t id) {
    graveyard_.clear();
    auto it = inbound_.find(id);
    if (it == inbound_.end()) return;  // closed earlier in this poll
    InboundConnection& connection = *it->second;
    for (int i = 0; i < kMaxReadsPerEvent; ++i) {
      char* into = connection.decoder.PrepareAppend(kReadChunkBytes);
      const ssize_t got = recv(connection.fd, into, kReadChunkBytes, 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        connection.decoder.CommitAppend(0);
        return;
      }
      if (got <= 0) {  // the sender closed, or the connection failed
        connection.decoder.CommitAppend(0);
        DropInbound(it);
        return;
      }
      stats_.bytes_received += static_cast<uint64_t>(got);
      connection.decoder.CommitAppend(static_cast<size_t>(got));
      // Bounded: each frame consumes at least a header of the bytes read.
      while (true) {
        internal::FrameDecoder::Result result = connection.decoder.Next();
        if (result.kind == internal::FrameDecoder::Kind::kNeedMore) break;
        if (result.kind == internal::FrameDecoder::Kind::kCorrupt) {
          ++stats_.frames_rejected;
          DropInbound(it);
          return;
        }
        ++stats_.frames_received;
        io::Message message{.from = std::move(result.from), .payload = std::move(result.payload)};
        if (!inbox_.TrySend(std::move(message)).ok()) ++stats_.messages_dropped_inbox_full;
      }
    }
  }

  void DropInbound(std::map<uint64_t, std::unique_ptr<InboundConnection>>::iterator it) {
    CloseInbound(*it->second, /*count=*/true);
    inbound_.erase(it);
  }

  void CloseInbound(InboundConnection& connection, bool count) {
    if (count) ++stats_.connections_closed;
    // The watcher may be the one whose callback is running: keep the object
    // alive until the next entry point, but stop its events now.
    connection.watcher->SetInterest(false, false);
    graveyard_.push_back(std::move(connection.watcher));
    close(connection.fd);
    connection.fd = -1;
  }

  // --- outbound ------------------------------------------------------------

  void StartConnect(Peer& peer) {
    FAULTLINE_CHECK(peer.fd < 0);
    const int fd = socket(peer.socket_address.storage.ss_family,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ConnectFailed(peer);
      return;
    }
    SetNoDelay(fd);
    peer.fd = fd;
    ++peer.generation;
    peer.watcher = std::make_unique<FdWatcher>(loop_, fd);
    Peer* target = &peer;
    const uint64_t generation = peer.generation;
    peer.watcher->SetCallback(
        [this, target, generation](uint32_t events) { OnPeerEvent(*target, generation, events); });
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

  void OnPeerEvent(Peer& peer, uint64_t generation, uint32_t events) {
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
      // (EOF or error). Stray bytes are discarded, a bounded number.
      char scratch[512];
      const ssize_t got = recv(peer.fd, scratch, sizeof(scratch), 0);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        ConnectionBroken(peer);
        return;
      }
    }
    if ((events & EPOLLOUT) != 0) Flush(peer);
  }

  void OnConnected(Peer& peer) {
    peer.state = Peer::State::kConnected;
    peer.backoff_ns = options_.reconnect_backoff_min_ns;
    ++stats_.connections_opened;
    Flush(peer);
  }

  // Writes queued frames until the socket is full, the queue is empty, or
  // kMaxFramesPerFlush frames went out (then the writable event resumes).
  void Flush(Peer& peer) {
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
      stats_.bytes_sent += static_cast<uint64_t>(put);
      peer.head_written_bytes += static_cast<size_t>(put);
      if (peer.head_written_bytes == frame.size()) {
        peer.queued_bytes -= frame.size();
        peer.queue.pop_front();
        peer.head_written_bytes = 0;
        ++stats_.frames_sent;
      }
    }
    peer.watcher->SetInterest(/*readable=*/true, /*writable=*/!peer.queue.empty());
  }

  void ConnectionBroken(Peer& peer) {
    ++stats_.connections_closed;
    if (peer.head_written_bytes > 0) {
      // The receiver discards a partial frame with its connection; resending
      // it whole could duplicate it only if it had been complete. Drop it.
      ++stats_.frames_dropped_on_reset;
      peer.queued_bytes -= peer.queue.front().size();
      peer.queue.pop_front();
      peer.head_written_bytes = 0;
    }
    CloseOutbound(peer);
    // A connection that worked is retried soon; backoff grows only while
    // connects keep failing.
    ScheduleReconnect(peer);
  }

  void ConnectFailed(Peer& peer) {
    ++stats_.connect_failures;
    ScheduleReconnect(peer);
    peer.backoff_ns = std::min(peer.backoff_ns * 2, options_.reconnect_backoff_max_ns);
  }

  void ScheduleReconnect(Peer& peer) {
    FAULTLINE_CHECK(peer.fd < 0 && !peer.timer.has_value());
    peer.state = Peer::State::kBackoff;
    Peer* target = &peer;
    peer.timer = loop_.AddTimer(runtime::DeadlineAfter(loop_.NowNs(), peer.backoff_ns),
                                [this, target] { OnReconnectTimer(*target); });
  }

  void OnReconnectTimer(Peer& peer) {
    graveyard_.clear();
    peer.timer.reset();
    FAULTLINE_CHECK(peer.state == Peer::State::kBackoff);
    if (peer.queue.empty()) {
      peer.state = Peer::State::kIdle;  // connect again on the next Send
      return;
    }
    StartConnect(peer);
  }

  void CloseOutbound(Peer& peer) {
    FAULTLINE_CHECK(peer.fd >= 0);
    peer.watcher->SetInterest(false, false);
    graveyard_.push_back(std::move(peer.watcher));
    close(peer.fd);
    peer.fd = -1;
    ++peer.generation;
    peer.state = Peer::State::kIdle;
  }

  TcpNetwork& network_;
  EventLoop& loop_;
  const TcpNetworkOptions& options_;
  TcpStats& stats_;
  const io::Address address_;
  const int listen_fd_;
  std::unique_ptr<FdWatcher> listen_watcher_;
  runtime::Channel<io::Message> inbox_;
  uint64_t next_inbound_id_ = 1;
  std::map<uint64_t, std::unique_ptr<InboundConnection>> inbound_;
  std::map<io::Address, std::unique_ptr<Peer>> peers_;
  // Watchers of closed connections, kept until no callback of theirs can be
  // running; emptied at every entry point. Bounded by the connections.
  std::vector<std::unique_ptr<FdWatcher>> graveyard_;
};

// --- the network -----------------------------------------------------------------

TcpNetwork::TcpNetwork(EventLoop& loop, const TcpNetworkOptions& options)
    : loop_(loop), options_(options) {
  FAULTLINE_CHECK(options_.max_message_bytes >= 1 &&
                  options_.max_message_bytes <= internal::kMaxPayloadBytesLimit);
  FAULTLINE_CHECK(options_.max_queued_bytes_per_peer >= 1);
  FAULTLINE_CHECK(options_.max_inbox_messages >= 1);
  FAULTLINE_CHECK(options_.reconnect_backoff_min_ns >= 1 &&
                  options_.reconnect_backoff_min_ns <= options_.reconnect_backoff_max_ns);
}

TcpNetwork::~TcpNetwork() {
  FAULTLINE_CHECK_MSG(bound_.empty(), "a TcpNetwork was destroyed before its endpoints");
}

absl::StatusOr<std::unique_ptr<io::Endpoint>> TcpNetwork::Listen(const io::Address& address) {
  absl::StatusOr<SocketAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  if (bound_.count(address) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(address, " is already bound"));
  }
  const int fd = socket(parsed->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return io::ErrnoToStatus(errno, absl::StrCat("socket for ", address));
  const int one = 1;
  // Lets a restarted process rebind while old connections sit in TIME_WAIT;
  // Linux still refuses a second listener on the same port.
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&parsed->storage), parsed->length) != 0) {
    const int error = errno;
    close(fd);
    if (error == EADDRINUSE) {
      return absl::AlreadyExistsError(absl::StrCat(address, " is in use"));
    }
    return io::ErrnoToStatus(error, absl::StrCat("bind ", address));
  }
  if (listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    close(fd);
    return io::ErrnoToStatus(error, absl::StrCat("listen ", address));
  }
  sockaddr_storage bound_address{};
  socklen_t length = sizeof(bound_address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound_address), &length) != 0) {
    const int error = errno;
    close(fd);
    return io::ErrnoToStatus(error, absl::StrCat("getsockname ", address));
  }
  const uint16_t port = ntohs(bound_address.ss_family == AF_INET6
                                  ? reinterpret_cast<sockaddr_in6*>(&bound_address)->sin6_port
                                  : reinterpret_cast<sockaddr_in*>(&bound_address)->sin_port);
  io::Address actual = FormatAddress(*parsed, port);
  if (actual.size() > internal::kMaxAddressBytes || bound_.count(actual) > 0) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot use address ", actual));
  }
  bound_.insert(actual);
  return std::unique_ptr<io::Endpoint>(std::make_unique<TcpEndpoint>(*this, std::move(actual), fd));
}

}  // namespace faultline::posix
