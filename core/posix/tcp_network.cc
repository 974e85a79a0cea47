// core/posix/tcp_network.cc — see tcp_network.h and tcp_frame_format.md.
// An endpoint is its inbox, its receiving side (internal/tcp_inbound.h), its
// sending side (internal/tcp_outbound.h) and a sweep timer that enforces
// both sides' timeouts.
#include "core/posix/tcp_network.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/posix/internal/tcp_frame.h"
#include "core/posix/internal/tcp_inbound.h"
#include "core/posix/internal/tcp_outbound.h"
#include "core/posix/internal/tcp_shared.h"
#include "core/posix/internal/tcp_socket.h"
#include "core/runtime/channel.h"

namespace faultline::posix {
namespace {

constexpr int kListenBacklog = 128;
// Sweeps run this many times per shortest timeout, within these bounds.
constexpr int64_t kSweepsPerTimeout = 4;
constexpr int64_t kMinSweepIntervalNs = io::kNanosPerMilli;
constexpr int64_t kMaxSweepIntervalNs = io::kNanosPerSecond;
// Stands for an unlimited RLIMIT_NOFILE.
constexpr size_t kUnlimitedFds = size_t{1} << 20;

size_t FdSoftLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return kUnlimitedFds;
  }
  return static_cast<size_t>(std::min<rlim_t>(limit.rlim_cur, kUnlimitedFds));
}

int64_t SweepIntervalNs(const TcpNetworkOptions& options) {
  const int64_t shortest = std::min({options.inbound_idle_timeout_ns,
                                     options.inbound_frame_timeout_ns,
                                     options.peer_idle_timeout_ns});
  return std::clamp(shortest / kSweepsPerTimeout, kMinSweepIntervalNs, kMaxSweepIntervalNs);
}

}  // namespace

class TcpEndpoint final : public io::Endpoint {
 public:
  TcpEndpoint(TcpNetwork& network, io::Address address, const internal::SocketAddress& socket,
              int listen_fd)
      : network_(network),
        shared_(*network.shared_),
        address_(std::move(address)),
        inbox_(shared_.loop, shared_.options.max_inbox_messages),
        inbound_(shared_, listen_fd, [this](io::Message message) { Deliver(std::move(message)); }),
        outbound_(shared_, address_, socket),
        sweep_interval_ns_(SweepIntervalNs(shared_.options)) {
    ArmSweep();
  }

  ~TcpEndpoint() override {
    if (sweep_timer_.has_value()) shared_.loop.CancelTimer(*sweep_timer_);
    network_.bound_.erase(address_);
  }

  const io::Address& address() const override { return address_; }

  absl::Status Send(const io::Address& to, std::string_view payload) override {
    return outbound_.Send(to, payload);
  }

  absl::StatusOr<io::Message> Receive(int64_t timeout_ns) override {
    FAULTLINE_CHECK(timeout_ns >= 0);
    absl::StatusOr<io::Message> message =
        inbox_.Receive(runtime::DeadlineAfter(shared_.loop.NowNs(), timeout_ns));
    if (message.ok()) {
      const size_t bytes = message->from.size() + message->payload.size();
      FAULTLINE_CHECK(inbox_bytes_ >= bytes);
      inbox_bytes_ -= bytes;
    }
    return message;
  }

 private:
  void Deliver(io::Message message) {
    const size_t bytes = message.from.size() + message.payload.size();
    if (inbox_bytes_ + bytes > shared_.options.max_inbox_bytes ||
        !inbox_.TrySend(std::move(message)).ok()) {
      ++shared_.stats.messages_dropped_inbox_full;
      return;
    }
    inbox_bytes_ += bytes;
  }

  void ArmSweep() {
    sweep_timer_ = shared_.loop.AddTimer(
        runtime::DeadlineAfter(shared_.loop.NowNs(), sweep_interval_ns_), [this] {
          sweep_timer_.reset();
          const int64_t now_ns = shared_.loop.NowNs();
          inbound_.Sweep(now_ns);
          outbound_.Sweep(now_ns);
          ArmSweep();
        });
  }

  TcpNetwork& network_;
  internal::TcpShared& shared_;
  const io::Address address_;
  runtime::Channel<io::Message> inbox_;
  size_t inbox_bytes_ = 0;  // from + payload of the messages in inbox_
  internal::TcpInbound inbound_;
  internal::TcpOutbound outbound_;
  const int64_t sweep_interval_ns_;
  std::optional<EventLoop::TimerId> sweep_timer_;
};

TcpNetwork::TcpNetwork(EventLoop& loop, const TcpNetworkOptions& options)
    : loop_(loop), shared_(std::make_unique<internal::TcpShared>(loop, options, FdSoftLimit())) {
  FAULTLINE_CHECK(options.max_message_bytes >= 1 &&
                  options.max_message_bytes <= internal::kMaxPayloadBytesLimit);
  FAULTLINE_CHECK(options.max_queued_bytes_per_peer >= 1);
  FAULTLINE_CHECK(options.max_inbox_messages >= 1 && options.max_inbox_bytes >= 1);
  FAULTLINE_CHECK(options.max_peers_per_endpoint >= 1);
  FAULTLINE_CHECK(options.max_unauthenticated_per_host >= 1);
  FAULTLINE_CHECK(options.inbound_idle_timeout_ns >= 1 && options.inbound_frame_timeout_ns >= 1 &&
                  options.peer_idle_timeout_ns >= 1 && options.outbound_user_timeout_ns >= 1 &&
                  options.accept_pause_ns >= 1);
  FAULTLINE_CHECK(options.reconnect_backoff_min_ns >= 1 &&
                  options.reconnect_backoff_min_ns <= options.reconnect_backoff_max_ns);
  if (options.cluster_key.size() >= TcpNetworkOptions::kMinClusterKeyBytes) {
    shared_->mac = std::make_unique<internal::FrameMac>(options.cluster_key);
  }
}

TcpNetwork::~TcpNetwork() {
  FAULTLINE_CHECK_MSG(bound_.empty(), "a TcpNetwork was destroyed before its endpoints");
}

size_t TcpNetwork::max_message_bytes() const { return shared_->options.max_message_bytes; }
const TcpStats& TcpNetwork::stats() const { return shared_->stats; }
const TcpNetworkOptions& TcpNetwork::options() const { return shared_->options; }

absl::StatusOr<std::unique_ptr<io::Endpoint>> TcpNetwork::Listen(const io::Address& address) {
  if (shared_->mac == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TcpNetworkOptions::cluster_key must be at least ", TcpNetworkOptions::kMinClusterKeyBytes,
        " bytes (got ", shared_->options.cluster_key.size(), "); all nodes share one key"));
  }
  absl::StatusOr<internal::SocketAddress> parsed = internal::ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  if (bound_.count(address) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(address, " is already bound"));
  }
  if (!shared_->MayOpenSocket()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("RLIMIT_NOFILE leaves no descriptors for sockets beyond reserved_fds (",
                     shared_->options.reserved_fds, ")"));
  }
  const int fd = socket(parsed->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return io::ErrnoToStatus(errno, absl::StrCat("socket for ", address));
  auto fail = [fd, &address](int error, const char* step) {
    close(fd);
    if (error == EADDRINUSE) return absl::AlreadyExistsError(absl::StrCat(address, " is in use"));
    return io::ErrnoToStatus(error, absl::StrCat(step, " ", address));
  };
  const int one = 1;
  // Lets a restarted process rebind while old connections sit in TIME_WAIT;
  // Linux still refuses a second listener on the same port.
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&parsed->storage), parsed->length) != 0) {
    return fail(errno, "bind");
  }
  if (listen(fd, kListenBacklog) != 0) return fail(errno, "listen");
  sockaddr_storage bound_address{};
  socklen_t length = sizeof(bound_address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound_address), &length) != 0) {
    return fail(errno, "getsockname");
  }
  io::Address actual = internal::FormatAddress(*parsed, internal::PortOf(bound_address));
  if (actual.size() > internal::kMaxAddressBytes || bound_.count(actual) > 0) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot use address ", actual));
  }
  bound_.insert(actual);
  shared_->SocketOpened(/*inbound=*/false);
  return std::unique_ptr<io::Endpoint>(
      std::make_unique<TcpEndpoint>(*this, std::move(actual), *parsed, fd));
}

}  // namespace faultline::posix
