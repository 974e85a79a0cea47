// tests/core/posix/tcp_network_test.cc — the Network contract
// (tests/core/io/network_contract.h) over loopback TCP, plus what only real
// sockets have: hostile peers (garbage, oversize and corrupt frames) that
// lose their connection while everyone else carries on, send-queue bounds,
// reconnecting, the frame codec and CRC32C.
#include "core/posix/tcp_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/posix/event_loop.h"
#include "core/posix/internal/tcp_frame.h"
#include "tests/core/io/network_contract.h"
#include "tests/core/posix/posix_test_util.h"
#include "tests/core/posix/tcp_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::RunInFiber;

// The contract's Factory: one loop and one TCP network per test; addresses
// are loopback with port 0 (the kernel picks a free port, no races).
class TcpFactory {
 public:
  TcpFactory() : network_(loop_, testing::TestOptions()) {}
  io::Network& network() { return network_; }
  runtime::Executor& executor() { return loop_; }
  io::Address NewAddress() { return "127.0.0.1:0"; }
  void RunInFiber(absl::AnyInvocable<void() &&> body) {
    testing::RunInFiber(loop_, std::move(body));
  }

 private:
  EventLoop loop_;
  TcpNetwork network_;
};

}  // namespace
}  // namespace faultline::posix

INSTANTIATE_TYPED_TEST_SUITE_P(PosixTcp, NetworkContractTest,
                               ::testing::Types<faultline::posix::TcpFactory>);

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
using testing::TcpWorld;
using testing::TestOptions;

TEST(TcpNetworkTest, GarbagePeerIsDisconnectedWhileOthersKeepWorking) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    ExpectDelivery(*a, *b, "before");
    ExpectClosedAfterSending(world.loop, *b, "GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    ExpectDelivery(*a, *b, "after");
    ExpectDelivery(*b, *a, "and back");
  });
  EXPECT_GE(world.network.stats().frames_rejected, 1u);
  EXPECT_GE(world.network.stats().connections_closed, 1u);
}

TEST(TcpNetworkTest, OversizeIncomingFrameClosesConnection) {
  TcpNetworkOptions options = TestOptions();
  options.max_message_bytes = 1024;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    // A well-formed frame whose payload exceeds the receiver's limit: the
    // header alone condemns it, before any body is buffered.
    ExpectClosedAfterSending(world.loop, *b, Frame("127.0.0.1:1", std::string(4096, 'x')));
    ExpectDelivery(*a, *b, "still fine");
  });
  EXPECT_EQ(world.network.stats().frames_rejected, 1u);
}

TEST(TcpNetworkTest, CorruptFrameIsRejected) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    std::string frame = Frame("127.0.0.1:1", "payload");
    frame[frame.size() - internal::kFrameTagBytes - 1] ^= 0x01;  // one bit of the payload
    ExpectClosedAfterSending(world.loop, *b, frame);
    ExpectDelivery(*a, *b, "clean");
  });
  EXPECT_EQ(world.network.stats().frames_rejected, 1u);
  EXPECT_EQ(world.network.stats().frames_received, 1u);
}

TEST(TcpNetworkTest, HandWrittenFrameIsDeliveredWithItsFrom) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto b = MustListen(world.network);
    ASSERT_TRUE(b);
    RawClient client(world.loop, PortOf(b->address()));
    // Two frames in one write, then one split across writes.
    // Any loopback host may be claimed over loopback, of either family.
    client.SendAll(Frame("127.0.0.1:4", "one") + Frame("localhost:4", "two"));
    const std::string third = Frame("[::1]:5", "three");
    client.SendAll(third.substr(0, 5));
    world.loop.SleepFor(io::kNanosPerMilli);
    client.SendAll(third.substr(5));
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
      auto message = b->Receive(kWaitNs);
      ASSERT_TRUE(message.ok()) << message.status();
      got.push_back(message->from + "/" + message->payload);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"127.0.0.1:4/one", "localhost:4/two", "[::1]:5/three"}));
  });
  EXPECT_EQ(world.network.stats().frames_rejected, 0u);
}

TEST(TcpNetworkTest, SendQueueIsBounded) {
  TcpNetworkOptions options = TestOptions();
  options.max_queued_bytes_per_peer = 5000;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto a = MustListen(world.network);
    auto gone = MustListen(world.network);
    ASSERT_TRUE(a && gone);
    const io::Address nobody = gone->address();
    gone.reset();  // nobody listens there now: frames stay queued
    const std::string payload(1000, 'p');
    int accepted = 0;
    absl::Status last;
    for (int i = 0; i < 10; ++i) {
      last = a->Send(nobody, payload);
      if (!last.ok()) break;
      ++accepted;
    }
    EXPECT_TRUE(absl::IsResourceExhausted(last)) << last;
    // As many whole frames as fit in the bound.
    EXPECT_EQ(static_cast<size_t>(accepted),
              5000 / internal::FrameBytes(a->address().size(), payload.size()));
    // Other destinations are not affected.
    auto b = MustListen(world.network);
    ASSERT_TRUE(b);
    ExpectDelivery(*a, *b, "other peer");
  });
  EXPECT_EQ(world.network.stats().sends_rejected_queue_full, 1u);
}

TEST(TcpNetworkTest, FullInboxDropsAndCounts) {
  TcpNetworkOptions options = TestOptions();
  options.max_inbox_messages = 2;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->Send(b->address(), std::to_string(i)).ok());
    // Let all five arrive (bounded wait), without taking any.
    for (int i = 0; i < 1000 && world.network.stats().frames_received < 5; ++i) {
      world.loop.SleepFor(io::kNanosPerMilli);
    }
    EXPECT_EQ(b->Receive(0).value_or(io::Message{}).payload, "0");
    EXPECT_EQ(b->Receive(0).value_or(io::Message{}).payload, "1");
    EXPECT_TRUE(absl::IsDeadlineExceeded(b->Receive(0).status()));
    // The connection survives: later messages arrive.
    ExpectDelivery(*a, *b, "later");
  });
  EXPECT_EQ(world.network.stats().messages_dropped_inbox_full, 3u);
}

TEST(TcpNetworkTest, InboundConnectionsAreBounded) {
  TcpNetworkOptions options = TestOptions();
  options.max_inbound_connections = 1;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto b = MustListen(world.network);
    ASSERT_TRUE(b);
    RawClient first(world.loop, PortOf(b->address()));
    first.SendAll(Frame("127.0.0.1:1", "first"));
    auto message = b->Receive(kWaitNs);
    ASSERT_TRUE(message.ok()) << message.status();
    RawClient second(world.loop, PortOf(b->address()));
    EXPECT_TRUE(second.WaitClosed());  // refused: accepted, then closed at once
    first.SendAll(Frame("127.0.0.1:1", "still here"));
    message = b->Receive(kWaitNs);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->payload, "still here");
  });
  EXPECT_EQ(world.network.stats().connections_refused, 1u);
}

TEST(TcpNetworkTest, ReconnectsAfterThePeerComesBack) {
  TcpNetworkOptions options = TestOptions();
  options.reconnect_backoff_min_ns = io::kNanosPerMilli;
  options.reconnect_backoff_max_ns = 20 * io::kNanosPerMilli;
  TcpWorld world(options);
  RunInFiber(world.loop, [&] {
    auto [a, b] = MustListenPair(world.network);
    ASSERT_TRUE(a && b);
    const io::Address b_address = b->address();
    ExpectDelivery(*a, *b, "first");
    b.reset();  // the peer goes away; a's connection breaks
    ASSERT_TRUE(a->Send(b_address, "lost or queued").ok());
    world.loop.SleepFor(30 * io::kNanosPerMilli);
    auto relisten = world.network.Listen(b_address);
    ASSERT_TRUE(relisten.ok()) << relisten.status();
    b = std::move(*relisten);
    // Unreliable: keep sending until one arrives (bounded).
    bool delivered = false;
    for (int attempt = 0; attempt < 200 && !delivered; ++attempt) {
      ASSERT_TRUE(a->Send(b_address, "again").ok());
      auto message = b->Receive(50 * io::kNanosPerMilli);
      delivered = message.ok() && message->from == a->address();
    }
    EXPECT_TRUE(delivered);
  });
  EXPECT_GE(world.network.stats().connections_opened, 2u);
}

TEST(TcpNetworkTest, BadAddressesAreInvalidArgument) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    for (const char* bad : {"nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000",
                            "host.example:80", "::1:80", "127.0.0.1:8x"}) {
      EXPECT_TRUE(absl::IsInvalidArgument(world.network.Listen(bad).status())) << bad;
    }
    auto a = MustListen(world.network);
    ASSERT_TRUE(a);
    EXPECT_TRUE(absl::IsInvalidArgument(a->Send("nonsense", "x")));
    auto local = world.network.Listen("localhost:0");
    ASSERT_TRUE(local.ok()) << local.status();
    EXPECT_EQ((*local)->address().rfind("localhost:", 0), 0u);
    ExpectDelivery(*a, **local, "via localhost");
  });
}

TEST(TcpNetworkTest, Ipv6LoopbackWhenAvailable) {
  TcpWorld world;
  RunInFiber(world.loop, [&] {
    auto v6 = world.network.Listen("[::1]:0");
    if (!v6.ok()) {
      GTEST_SKIP() << "no IPv6 loopback here: " << v6.status();
    }
    auto a = MustListen(world.network);
    ASSERT_TRUE(a);
    EXPECT_EQ((*v6)->address().rfind("[::1]:", 0), 0u);
    ExpectDelivery(*a, **v6, "to v6");
    ExpectDelivery(**v6, *a, "from v6");
  });
}

// --- the codec -------------------------------------------------------------------

RC_GTEST_PROP(TcpFrameCodecTest, RoundTripsInAnyChunking,
              (const std::vector<std::string>& payloads)) {
  const std::string from = "127.0.0.1:7000";
  std::string stream;
  const internal::FrameMac mac(testing::kTestKey);
  for (const std::string& payload : payloads) stream += internal::EncodeFrame(mac, from, payload);
  internal::FrameDecoder decoder(1 << 16, mac);
  std::vector<std::string> decoded;
  size_t offset = 0;
  while (offset < stream.size()) {  // each round consumes >= 1 byte
    const size_t chunk =
        std::min<size_t>(stream.size() - offset, static_cast<size_t>(*rc::gen::inRange(1, 100)));
    decoder.Append(stream.data() + offset, chunk);
    offset += chunk;
    while (true) {
      auto result = decoder.Next();
      RC_ASSERT(result.kind != internal::FrameDecoder::Kind::kCorrupt);
      if (result.kind == internal::FrameDecoder::Kind::kNeedMore) break;
      RC_ASSERT(result.from == from);
      decoded.push_back(std::move(result.payload));
    }
  }
  RC_ASSERT(decoded == payloads);
  RC_ASSERT(decoder.buffered_bytes() == 0u);
}

RC_GTEST_PROP(TcpFrameCodecTest, AnySingleBitFlipIsDetected, (const std::string& payload)) {
  const internal::FrameMac mac(testing::kTestKey);
  std::string frame = internal::EncodeFrame(mac, "10.0.0.1:1", payload);
  const size_t bit = static_cast<size_t>(*rc::gen::inRange<size_t>(0, frame.size() * 8));
  frame[bit / 8] = static_cast<char>(frame[bit / 8] ^ (1 << (bit % 8)));
  internal::FrameDecoder decoder(1 << 16, mac);
  decoder.Append(frame.data(), frame.size());
  const auto result = decoder.Next();
  // A flipped length bit may make the decoder wait for more bytes; it must
  // never hand out the frame.
  RC_ASSERT(result.kind != internal::FrameDecoder::Kind::kFrame);
}

RC_GTEST_PROP(TcpFrameCodecTest, GarbageNeverYieldsAFrameOrOverflows,
              (const std::string& garbage)) {
  const internal::FrameMac mac(testing::kTestKey);
  internal::FrameDecoder decoder(1024, mac);
  decoder.Append(garbage.data(), garbage.size());
  const auto result = decoder.Next();
  // Random bytes essentially never carry the magic, a valid CRC and tag.
  RC_ASSERT(result.kind != internal::FrameDecoder::Kind::kFrame);
  RC_ASSERT(decoder.buffered_bytes() <= garbage.size());
}

}  // namespace
}  // namespace faultline::posix

namespace faultline::posix {
namespace {

TEST(TcpFrameCodecTest, DecoderReleasesALargeFrameBuffer) {
  const internal::FrameMac mac(testing::kTestKey);
  const std::string frame = internal::EncodeFrame(mac, "127.0.0.1:1", std::string(1 << 20, 'b'));
  internal::FrameDecoder decoder(1 << 20, mac);
  for (size_t offset = 0; offset < frame.size(); offset += 65536) {
    decoder.Append(frame.data() + offset, std::min<size_t>(65536, frame.size() - offset));
  }
  EXPECT_GE(decoder.capacity_bytes(), frame.size());
  EXPECT_EQ(decoder.Next().kind, internal::FrameDecoder::Kind::kFrame);
  EXPECT_LE(decoder.capacity_bytes(), internal::kIdleDecoderCapacityBytes);
}

TEST(TcpFrameCodecTest, FrameUnderAnotherKeyIsForged) {
  const internal::FrameMac mine(testing::kTestKey);
  const internal::FrameMac theirs("some-other-cluster-key-0123");
  const std::string frame = internal::EncodeFrame(theirs, "127.0.0.1:1", "hello");
  internal::FrameDecoder decoder(1024, mine);
  decoder.Append(frame.data(), frame.size());
  EXPECT_EQ(decoder.Next().kind, internal::FrameDecoder::Kind::kForged);
}

}  // namespace
}  // namespace faultline::posix
