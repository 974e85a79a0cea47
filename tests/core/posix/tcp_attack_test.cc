// tests/core/posix/tcp_attack_test.cc — TcpNetwork against attacks that
// turn its own defences against members: memory or descriptor bounds filled
// by peers without the key so that members' connections are the ones closed
// or refused, and `from` strings that parse as one host while naming
// another string. Each test bounds its loops in count and in (loop) time;
// none asserts a speed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <limits>

#include <memory>
#include <string>
#include <vector>

#include "core/posix/internal/tcp_frame.h"
#include "core/posix/internal/tcp_socket.h"
#include "core/posix/tcp_network.h"
#include "tests/core/posix/posix_test_util.h"
#include "tests/core/posix/tcp_test_util.h"

namespace faultline::posix {
namespace {

using testing::ExpectClosedAfterSending;
using testing::ExpectDelivery;
using testing::Frame;
using testing::kWaitNs;
using testing::MustListen;
using testing::MustListenPair;
using testing::PortOf;
using testing::RawClient;
using testing::RunInFiber;
using testing::TcpWorld;
using testing::TestOptions;
using testing::WaitFor;

constexpr int64_t kMs = io::kNanosPerMilli;
constexpr std::string_view kWrongKey = "not-the-cluster-key-0123456789";

// Peers without the key hold partial frames up to the endpoint's bound; a
// member's large frame, which needs more than one read, must still get in:
// the unauthenticated bytes make room, not the member's connection.
TEST(TcpAttackTest, UnauthenticatedPartialFramesDoNotStarveAMember) {
  constexpr size_t kBufferedBound = 256 * 1024;
  TcpNetworkOptions options = TestOptions();
  options.max_inbound_buffered_bytes = kBufferedBound;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    ExpectDelivery(*a, *b, "authenticate a's connection");
    // Exactly the bound, in a frame that claims to be much longer.
    const std::string hold =
        Frame("127.0.0.1:1", std::string(900'000, 'h'), kWrongKey).substr(0, kBufferedBound);
    const uint64_t before = world.network.stats().bytes_received;
    RawClient attacker(world.loop, PortOf(b->address()));
    ASSERT_TRUE(attacker.SendAll(hold));
    ASSERT_TRUE(WaitFor(world.loop, [&] {
      return world.network.stats().bytes_received >= before + hold.size();
    }));
    const std::string large(200'000, 'L');
    ASSERT_TRUE(a->Send(b->address(), large).ok());
    auto message = b->Receive(kWaitNs);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->payload, large);
    EXPECT_TRUE(attacker.WaitClosed());
  });
  EXPECT_EQ(world.network.stats().connections_over_memory, 1u);
}

// Descriptors for inbound connections are shared by all endpoints of a
// network. Idle connections without the key, held on one endpoint, must not
// leave another endpoint unable to accept a member.
TEST(TcpAttackTest, AFloodOnOneEndpointDoesNotLockOutAnother) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur < 256) {
    GTEST_SKIP() << "needs a finite RLIMIT_NOFILE of at least 256";
  }
  constexpr size_t kBudget = 20;  // sockets; inbound ones get half
  TcpNetworkOptions options = TestOptions();
  options.reserved_fds = static_cast<size_t>(limit.rlim_cur) - kBudget;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto victim = MustListen(world.network);
    auto target = MustListen(world.network);
    auto member = MustListen(world.network);
    ASSERT_TRUE(victim && target && member);
    // Two source hosts, under the per-host cap, take the inbound half.
    std::vector<std::unique_ptr<RawClient>> flood;
    for (const char* host : {"127.0.0.2", "127.0.0.3"}) {
      for (size_t i = 0; i < kBudget / 4; ++i) {
        flood.push_back(std::make_unique<RawClient>(world.loop, PortOf(victim->address()), host));
      }
    }
    ASSERT_TRUE(WaitFor(world.loop, [&] {
      return world.network.stats().connections_accepted >= flood.size();
    }));
    bool delivered = false;
    for (int attempt = 0; attempt < 100 && !delivered; ++attempt) {
      ASSERT_TRUE(member->Send(target->address(), "let me in").ok());
      delivered = target->Receive(20 * kMs).ok();
    }
    EXPECT_TRUE(delivered);
  });
  EXPECT_GE(world.network.stats().connections_evicted, 1u);
}

// A host with a NUL and junk after it parsed as the IP before the NUL, so a
// member could give one host many `from` names (and inject NULs into them).
TEST(TcpAttackTest, AddressWithEmbeddedNulIsRejected) {
  const std::string with_nul("127.0.0.1\0junk:7000", 19);
  EXPECT_TRUE(absl::IsInvalidArgument(internal::ParseAddress(with_nul).status()));
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto listened = world.network.Listen(std::string("127.0.0.1\0x:0", 13));
    EXPECT_TRUE(absl::IsInvalidArgument(listened.status())) << listened.status();
    auto b = MustListen(world.network);
    ASSERT_TRUE(b);
    ExpectClosedAfterSending(world.loop, *b, Frame(with_nul, "who am I"));
    EXPECT_TRUE(absl::IsDeadlineExceeded(b->Receive(0).status()));
  });
  EXPECT_EQ(world.network.stats().frames_wrong_host, 1u);
  EXPECT_EQ(world.network.stats().frames_received, 0u);
}

// Replay is not prevented (tcp_frame_format.md): a captured frame
// authenticates any connection from its host, or any loopback one. Replaying
// one frame on every slot, and again before the idle timeout, must not lock
// members out: connections that claim the same `from` as a newer one give
// way when the table is full.
TEST(TcpAttackTest, AReplayedFrameCannotHoldEverySlot) {
  TcpNetworkOptions options = TestOptions();
  options.max_inbound_connections = 4;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto member = MustListen(world.network);
    auto target = MustListen(world.network);
    ASSERT_TRUE(member && target);
    const std::string captured = Frame("127.0.0.1:1", "captured once");
    std::vector<std::unique_ptr<RawClient>> replayers;
    for (int i = 0; i < 4; ++i) {
      replayers.push_back(std::make_unique<RawClient>(world.loop, PortOf(target->address())));
      ASSERT_TRUE(replayers.back()->SendAll(captured));
      ASSERT_TRUE(target->Receive(kWaitNs).ok());
    }
    bool delivered = false;
    for (int attempt = 0; attempt < 100 && !delivered; ++attempt) {
      ASSERT_TRUE(member->Send(target->address(), "let me in").ok());
      for (int i = 0; i < 2 && !delivered; ++i) {  // skip replays that raced in
        auto message = target->Receive(20 * kMs);
        delivered = message.ok() && message->payload == "let me in";
      }
    }
    EXPECT_TRUE(delivered);
  });
  EXPECT_GE(world.network.stats().connections_evicted, 1u);
}

// Endpoints destroyed with everything in flight: partial frames in and
// out, connects pending, reconnect timers armed, peers evicted, connections
// evicted across endpoints. The loop keeps running afterwards, so a stale
// callback or timer would touch freed memory (caught by the asan preset).
TEST(TcpAttackTest, TeardownWithConnectionsInFlightIsClean) {
  TcpNetworkOptions options = TestOptions();
  options.max_peers_per_endpoint = 2;
  options.max_inbound_buffered_bytes = 100'000;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto a = MustListen(world.network);
    auto b = MustListen(world.network);
    auto c = MustListen(world.network);
    ASSERT_TRUE(a && b && c);
    io::Address dead;
    {
      auto gone = MustListen(world.network);
      ASSERT_TRUE(gone);
      dead = gone->address();
    }
    ExpectDelivery(*a, *b, "connected");
    RawClient partial(world.loop, PortOf(b->address()));
    partial.SendAll(Frame("127.0.0.1:1", std::string(90'000, 'p'), kWrongKey).substr(0, 80'000));
    RawClient idle(world.loop, PortOf(c->address()));
    for (int i = 0; i < 20; ++i) (void)a->Send(b->address(), std::string(50'000, 'q'));
    (void)a->Send(dead, "pending");  // evicts nothing yet: two peers
    (void)c->Send(dead, "pending too");
    (void)c->Send(b->address(), std::string(200'000, 'r'));
    world.loop.SleepFor(kMs);
    b.reset();  // a's and c's connections to b break mid-stream
    world.loop.SleepFor(20 * kMs);
    (void)a->Send(c->address(), "evicts a peer");
    a.reset();
    world.loop.SleepFor(20 * kMs);
    c.reset();
    world.loop.SleepFor(20 * kMs);
    EXPECT_TRUE(partial.WaitClosed());
    EXPECT_TRUE(idle.WaitClosed());
  });
  EXPECT_GE(world.network.stats().peers_evicted, 1u);
}

sockaddr_storage IpOf(const char* text) {
  sockaddr_storage address{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(address);
  auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
  if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
    v6.sin6_family = AF_INET6;
  }
  return address;
}

// One IPv6 host commonly owns a whole /64: capping unauthenticated
// connections per address would give it 2^64 caps. The cap is per /64 (and
// an IPv4-mapped source counts as its IPv4 host).
TEST(TcpAttackTest, PerHostCapCoversAnIpv6Slash64) {
  auto key = [](const char* text) { return internal::CapKey(IpOf(text)); };
  EXPECT_EQ(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:fffe"));
  EXPECT_NE(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
  EXPECT_EQ(key("::ffff:10.0.0.1"), key("10.0.0.1"));
  EXPECT_NE(key("10.0.0.1"), key("10.0.0.2"));
}

// A reconnect backoff allowed to grow to the largest duration must stop
// doubling there rather than overflow (UBSan in the asan preset aborts on
// the signed overflow; a wrapped backoff would turn negative, then zero:
// reconnects without any pause).
TEST(TcpAttackTest, BackoffNearTheLargestDurationDoesNotOverflow) {
  TcpNetworkOptions options = TestOptions();
  options.reconnect_backoff_min_ns = (int64_t{1} << 62) + 1;
  options.reconnect_backoff_max_ns = std::numeric_limits<int64_t>::max();
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto a = MustListen(world.network);
    auto gone = MustListen(world.network);
    ASSERT_TRUE(a && gone);
    const io::Address target = gone->address();
    gone.reset();
    ASSERT_TRUE(a->Send(target, "into the void").ok());
    EXPECT_TRUE(WaitFor(world.loop, [&] { return world.network.stats().connect_failures >= 1; }));
  });
  EXPECT_EQ(world.network.stats().connect_failures, 1u);
}

// A receiver never writes on a connection it accepted. One that does is not
// a TcpNetwork receiver (or is hostile): streaming bytes at the sender would
// keep its loop reading forever, so the first byte breaks the connection.
TEST(TcpAttackTest, ADestinationThatWritesIsDisconnected) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto a = MustListen(world.network);
    ASSERT_TRUE(a);
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(listen(listener, 4), 0);
    ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
    const io::Address target = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    ASSERT_TRUE(a->Send(target, "hello").ok());
    ASSERT_TRUE(WaitFor(world.loop, [&] { return world.network.stats().frames_sent >= 1; }));
    const int accepted = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(accepted, 0);
    ASSERT_EQ(send(accepted, "?", 1, MSG_NOSIGNAL), 1);
    EXPECT_TRUE(WaitFor(world.loop, [&] { return world.network.stats().connections_closed >= 1; }));
    close(accepted);
    close(listener);
  });
}

}  // namespace
}  // namespace faultline::posix
