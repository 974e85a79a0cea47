// tests/core/io/network_contract.h — the io::Network / io::Endpoint contract
// (core/io/network.h) as reusable GoogleTest typed tests.
//
// Run against every implementation (core/posix over loopback TCP,
// sim/network) configured WITHOUT faults: the contract allows loss,
// duplication and reordering, but a fault-free network must deliver, so these
// tests check delivery (as a set, never in order), `from`, size limits,
// binding and timeouts. Fault behaviour is each implementation's own test.
//
// HOW TO USE — write a Factory and instantiate the suite:
//
//   struct MyFactory {
//     MyFactory();   // a fresh, fault-free network and an executor
//     ~MyFactory();
//
//     faultline::io::Network& network();
//     faultline::runtime::Executor& executor();
//
//     // An address Listen() accepts. Each call returns an address no live
//     // endpoint uses. Tests never assume endpoint->address() equals it (TCP
//     // hands out "127.0.0.1:0" and the endpoint reports the real port).
//     faultline::io::Address NewAddress();
//
//     // Runs `body` as a fiber on executor() and returns once it and every
//     // fiber it spawned finished; ADD_FAILURE() if the run did not complete.
//     void RunInFiber(absl::AnyInvocable<void() &&> body);
//   };
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, NetworkContractTest,
//                                  ::testing::Types<MyFactory>);
//
// Timeouts are checked loosely (>= the timeout, < the timeout + 2 s of the
// executor's clock), never as performance assertions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/clock.h"
#include "core/io/network.h"
#include "core/runtime/executor.h"

namespace faultline::io::contract {

// How long a fault-free network may take to deliver one message in tests.
inline constexpr int64_t kDeliveryTimeoutNs = 10 * kNanosPerSecond;

// Receives until `count` messages arrived or one Receive timed out.
inline std::vector<Message> ReceiveMany(Endpoint& endpoint, size_t count) {
  std::vector<Message> received;
  while (received.size() < count) {  // bounded by count, or the first timeout
    absl::StatusOr<Message> message = endpoint.Receive(kDeliveryTimeoutNs);
    if (!message.ok()) break;
    received.push_back(std::move(*message));
  }
  return received;
}

}  // namespace faultline::io::contract

template <typename Factory>
class NetworkContractTest : public ::testing::Test {
 protected:
  template <typename Body>
  void Run(Body body) {
    bool ran = false;
    factory_.RunInFiber([this, &ran, body = std::move(body)]() mutable {
      ran = true;
      body(factory_.network());
    });
    // A body that never ran would pass every test without checking anything.
    EXPECT_TRUE(ran) << "the test body never ran in a fiber";
  }

  // Listens on a fresh address; fails the test (and returns null) on error.
  std::unique_ptr<faultline::io::Endpoint> Bind(faultline::io::Network& network) {
    auto endpoint = network.Listen(factory_.NewAddress());
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    return endpoint.ok() ? std::move(*endpoint) : nullptr;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(NetworkContractTest);

TYPED_TEST_P(NetworkContractTest, MessageArrivesWithSenderAddress) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    auto b = this->Bind(network);
    ASSERT_TRUE(a != nullptr && b != nullptr);
    EXPECT_NE(a->address(), b->address());
    const std::string payload("binary\0payload\xff", 15);
    ASSERT_TRUE(a->Send(b->address(), payload).ok());
    auto message = b->Receive(contract::kDeliveryTimeoutNs);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->from, a->address());
    EXPECT_EQ(message->payload, payload);
  });
}

TYPED_TEST_P(NetworkContractTest, ReplyToFromReachesSender) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto client = this->Bind(network);
    auto server = this->Bind(network);
    ASSERT_TRUE(client != nullptr && server != nullptr);
    ASSERT_TRUE(client->Send(server->address(), "ping").ok());
    auto request = server->Receive(contract::kDeliveryTimeoutNs);
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE(server->Send(request->from, "pong").ok());
    auto reply = client->Receive(contract::kDeliveryTimeoutNs);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->payload, "pong");
    EXPECT_EQ(reply->from, server->address());
  });
}

TYPED_TEST_P(NetworkContractTest, EmptyAndMaximalPayloadsArrive) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    auto b = this->Bind(network);
    ASSERT_TRUE(a != nullptr && b != nullptr);
    // The largest payload, if it is of a size a test can afford.
    const size_t max_bytes = std::min<size_t>(network.max_message_bytes(), 4 << 20);
    std::string big(max_bytes, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 1);
    ASSERT_TRUE(a->Send(b->address(), "").ok());
    ASSERT_TRUE(a->Send(b->address(), big).ok());
    std::vector<Message> received = contract::ReceiveMany(*b, 2);
    ASSERT_EQ(received.size(), 2u);
    std::multiset<size_t> sizes;
    for (const Message& message : received) {
      sizes.insert(message.payload.size());
      if (!message.payload.empty()) {
        EXPECT_TRUE(message.payload == big);
      }
    }
    EXPECT_EQ(sizes, (std::multiset<size_t>{0, max_bytes}));
  });
}

TYPED_TEST_P(NetworkContractTest, OversizePayloadIsInvalidArgument) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    auto b = this->Bind(network);
    ASSERT_TRUE(a != nullptr && b != nullptr);
    if (network.max_message_bytes() > (64u << 20)) {
      GTEST_SKIP() << "max_message_bytes too large to test cheaply";
    }
    const std::string too_big(network.max_message_bytes() + 1, 'x');
    absl::Status status = a->Send(b->address(), too_big);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    // The endpoint still works.
    ASSERT_TRUE(a->Send(b->address(), "after").ok());
    auto message = b->Receive(contract::kDeliveryTimeoutNs);
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->payload, "after");
  });
}

TYPED_TEST_P(NetworkContractTest, ReceiveTimesOut) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    ASSERT_TRUE(a != nullptr);
    faultline::runtime::Executor& executor = this->factory_.executor();
    const int64_t timeout_ns = 50 * kNanosPerMilli;
    const int64_t start_ns = executor.NowNs();
    auto message = a->Receive(timeout_ns);
    const int64_t waited_ns = executor.NowNs() - start_ns;
    EXPECT_TRUE(absl::IsDeadlineExceeded(message.status())) << message.status();
    EXPECT_GE(waited_ns, timeout_ns);
    EXPECT_LT(waited_ns, timeout_ns + 2 * kNanosPerSecond);
    // A zero timeout polls.
    auto polled = a->Receive(0);
    EXPECT_TRUE(absl::IsDeadlineExceeded(polled.status())) << polled.status();
  });
}

TYPED_TEST_P(NetworkContractTest, ListenTwiceIsAlreadyExists) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    ASSERT_TRUE(a != nullptr);
    auto again = network.Listen(a->address());
    EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
    // Destroying the endpoint unbinds the address.
    const Address address = a->address();
    a.reset();
    auto rebound = network.Listen(address);
    EXPECT_TRUE(rebound.ok()) << rebound.status();
  });
}

TYPED_TEST_P(NetworkContractTest, SendToUnboundAddressIsAccepted) {
  using namespace faultline::io;
  this->Run([&](Network& network) {
    auto a = this->Bind(network);
    auto gone = this->Bind(network);
    ASSERT_TRUE(a != nullptr && gone != nullptr);
    const Address address = gone->address();
    gone.reset();
    // Unreliable by contract: accepted, then lost. Not an error, no hang.
    EXPECT_TRUE(a->Send(address, "into the void").ok());
  });
}

TYPED_TEST_P(NetworkContractTest, ManySendersAllDelivered) {
  using namespace faultline::io;
  constexpr int kSenders = 3;
  constexpr int kMessagesPerSender = 50;
  this->Run([&](Network& network) {
    auto sink = this->Bind(network);
    ASSERT_TRUE(sink != nullptr);
    std::vector<std::unique_ptr<Endpoint>> senders;
    std::set<std::pair<Address, std::string>> expected;
    for (int s = 0; s < kSenders; ++s) {
      senders.push_back(this->Bind(network));
      ASSERT_TRUE(senders.back() != nullptr);
    }
    for (int i = 0; i < kMessagesPerSender; ++i) {
      for (int s = 0; s < kSenders; ++s) {
        const std::string payload = "m" + std::to_string(s) + "-" + std::to_string(i);
        ASSERT_TRUE(senders[s]->Send(sink->address(), payload).ok());
        expected.emplace(senders[s]->address(), payload);
      }
    }
    std::vector<Message> received = contract::ReceiveMany(*sink, expected.size());
    std::set<std::pair<Address, std::string>> got;
    for (Message& message : received) got.emplace(message.from, message.payload);
    EXPECT_EQ(got, expected);
  });
}

REGISTER_TYPED_TEST_SUITE_P(NetworkContractTest, MessageArrivesWithSenderAddress,
                            ReplyToFromReachesSender, EmptyAndMaximalPayloadsArrive,
                            OversizePayloadIsInvalidArgument, ReceiveTimesOut,
                            ListenTwiceIsAlreadyExists, SendToUnboundAddressIsAccepted,
                            ManySendersAllDelivered);
