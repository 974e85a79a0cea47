// tests/core/posix/tcp_test_util.h — fixtures for the TCP network tests: a
// loop with a network under a fixed test key, a raw (hostile or hand-driven)
// loopback client, frames encoded under the test key or another one, and the
// set-up and drive steps many tests share.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>

#include "core/posix/event_loop.h"
#include "core/posix/internal/frame_mac.h"
#include "core/posix/internal/tcp_frame.h"
#include "core/posix/tcp_network.h"

namespace faultline::posix::testing {

inline constexpr int64_t kWaitNs = 10 * io::kNanosPerSecond;
inline constexpr std::string_view kTestKey = "test-cluster-key-0123456789abcdef";

inline TcpNetworkOptions TestOptions() {
  TcpNetworkOptions options;
  options.cluster_key = std::string(kTestKey);
  return options;
}

// A frame as a cluster member would send it (under kTestKey), or under
// another key.
inline std::string Frame(std::string_view from, std::string_view payload,
                         std::string_view key = kTestKey) {
  const internal::FrameMac mac(key);
  return internal::EncodeFrame(mac, from, payload);
}

inline uint16_t PortOf(const io::Address& address) {
  const size_t colon = address.rfind(':');
  unsigned port = 0;
  std::from_chars(address.data() + colon + 1, address.data() + address.size(), port);
  return static_cast<uint16_t>(port);
}

// Runs the loop until `done()` or about `wait_ns` passed (1 ms steps);
// whether `done()` holds at the end.
template <typename Done>
bool WaitFor(EventLoop& loop, Done done, int64_t wait_ns = kWaitNs) {
  constexpr int64_t kStepNs = io::kNanosPerMilli;
  for (int64_t i = 0; i < wait_ns / kStepNs && !done(); ++i) loop.SleepFor(kStepNs);
  return done();
}

struct TcpWorld {
  explicit TcpWorld(const TcpNetworkOptions& options = TestOptions()) : network(loop, options) {}
  EventLoop loop;
  TcpNetwork network;
};

inline std::unique_ptr<io::Endpoint> MustListen(TcpNetwork& network,
                                                const io::Address& address = "127.0.0.1:0") {
  auto endpoint = network.Listen(address);
  EXPECT_TRUE(endpoint.ok()) << endpoint.status();
  return endpoint.ok() ? std::move(*endpoint) : nullptr;
}

// Two endpoints on loopback, the start of most tests; either is null (with
// a failure recorded) if it could not listen.
struct ListenedPair {
  std::unique_ptr<io::Endpoint> a;
  std::unique_ptr<io::Endpoint> b;
};
inline ListenedPair MustListenPair(TcpNetwork& network) {
  auto a = MustListen(network);
  return ListenedPair{std::move(a), MustListen(network)};
}

// Checks that a → b still delivers.
inline void ExpectDelivery(io::Endpoint& a, io::Endpoint& b, const std::string& payload) {
  ASSERT_TRUE(a.Send(b.address(), payload).ok());
  auto message = b.Receive(kWaitNs);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->payload, payload);
  EXPECT_EQ(message->from, a.address());
}

// A raw client: a non-blocking loopback socket driven from a fiber.
class RawClient {
 public:
  // `source_ip`: a loopback IPv4 address to connect from (127.x.y.z), so
  // tests can play several source hosts.
  RawClient(EventLoop& loop, uint16_t port, const char* source_ip = nullptr) : loop_(loop) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    watcher_ = std::make_unique<FdWatcher>(loop, fd_);
    if (source_ip != nullptr) {
      sockaddr_in source{};
      source.sin_family = AF_INET;
      EXPECT_EQ(inet_pton(AF_INET, source_ip, &source.sin_addr), 1);
      EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof(source)), 0);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      EXPECT_EQ(errno, EINPROGRESS);
      EXPECT_TRUE(watcher_->WaitWritable(loop.NowNs() + kWaitNs).ok());
    }
  }
  ~RawClient() {
    watcher_.reset();
    close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends all of `bytes` unless the server closes the connection first;
  // returns whether everything went out.
  bool SendAll(std::string_view bytes) {
    size_t sent = 0;
    for (int attempt = 0; attempt < 10000 && sent < bytes.size(); ++attempt) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        if (!watcher_->WaitWritable(loop_.NowNs() + kWaitNs).ok()) return false;
      } else {
        return false;  // the server closed on us: expected by some tests
      }
    }
    return sent == bytes.size();
  }

  // Whether the server closed the connection (EOF or reset) within wait_ns.
  bool WaitClosed(int64_t wait_ns = kWaitNs) {
    const int64_t deadline_ns = loop_.NowNs() + wait_ns;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      char buffer[256];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
      if (!watcher_->WaitReadable(deadline_ns).ok()) return false;
    }
    return false;
  }

  // Whether the server has closed the connection already (no waiting).
  bool IsClosed() { return WaitClosed(0); }

 private:
  EventLoop& loop_;
  int fd_ = -1;
  std::unique_ptr<FdWatcher> watcher_;
};

// Sends `bytes` to `server` from a raw loopback client and checks that the
// server closes that connection (what it must do to a hostile peer).
inline void ExpectClosedAfterSending(EventLoop& loop, const io::Endpoint& server,
                                     std::string_view bytes) {
  RawClient client(loop, PortOf(server.address()));
  client.SendAll(bytes);
  EXPECT_TRUE(client.WaitClosed());
}

}  // namespace faultline::posix::testing
