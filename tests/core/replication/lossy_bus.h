// tests/core/replication/lossy_bus.h — a test-only io::Network that drops,
// duplicates, reorders and corrupts messages at seeded rates, so that the
// Leader and Follower fibers can be driven on the deterministic scheduler
// before sim/network exists. Delivery is immediate (no latency model); a
// message reorders by being put at a random place in the receiver's inbox.
// Messages to an address nobody listens on vanish, like those to a crashed
// node. Inboxes are bounded; overflow drops.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "core/io/network.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"

namespace faultline::replication::testing {

struct BusFaults {
  int drop_percent = 0;
  int duplicate_percent = 0;
  int reorder_percent = 0;
  int corrupt_percent = 0;
  bool refuse_sends = false;  // every Send is ResourceExhausted (a full queue)
};

class LossyBus final : public io::Network {
 public:
  LossyBus(runtime::Executor& executor, uint64_t seed) : executor_(executor), rng_(seed) {}

  void set_faults(const BusFaults& faults) { faults_ = faults; }
  uint64_t delivered() const { return delivered_; }
  uint64_t faults_injected() const { return faults_injected_; }

  absl::StatusOr<std::unique_ptr<io::Endpoint>> Listen(const io::Address& address) override;
  size_t max_message_bytes() const override { return 1 << 20; }

 private:
  class BusEndpoint;
  static constexpr size_t kMaxInbox = 4096;

  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  void Deliver(const io::Address& from, const io::Address& to, std::string payload);

  runtime::Executor& executor_;
  std::mt19937_64 rng_;
  BusFaults faults_;
  std::map<io::Address, BusEndpoint*> bound_;
  uint64_t delivered_ = 0;
  uint64_t faults_injected_ = 0;
};

class LossyBus::BusEndpoint final : public io::Endpoint {
 public:
  BusEndpoint(LossyBus& bus, io::Address address)
      : bus_(bus), address_(std::move(address)), arrived_(bus.executor_) {}
  ~BusEndpoint() override { bus_.bound_.erase(address_); }

  const io::Address& address() const override { return address_; }

  absl::Status Send(const io::Address& to, std::string_view payload) override {
    if (payload.size() > bus_.max_message_bytes()) return absl::InvalidArgumentError("too large");
    if (bus_.faults_.refuse_sends) return absl::ResourceExhaustedError("send queue full");
    bus_.Deliver(address_, to, std::string(payload));
    return absl::OkStatus();
  }

  absl::StatusOr<io::Message> Receive(int64_t timeout_ns) override {
    const int64_t deadline_ns = runtime::DeadlineAfter(bus_.executor_.NowNs(), timeout_ns);
    while (inbox_.empty()) {
      arrived_.Reset();
      if (!arrived_.WaitUntil(deadline_ns) && inbox_.empty()) {
        return absl::DeadlineExceededError("nothing arrived");
      }
    }
    io::Message message = std::move(inbox_.front());
    inbox_.pop_front();
    return message;
  }

 private:
  friend class LossyBus;
  LossyBus& bus_;
  io::Address address_;
  std::deque<io::Message> inbox_;
  runtime::Event arrived_;
};

inline absl::StatusOr<std::unique_ptr<io::Endpoint>> LossyBus::Listen(const io::Address& address) {
  if (bound_.count(address) > 0) return absl::AlreadyExistsError(address);
  auto endpoint = std::make_unique<BusEndpoint>(*this, address);
  bound_[address] = endpoint.get();
  return endpoint;
}

inline void LossyBus::Deliver(const io::Address& from, const io::Address& to,
                              std::string payload) {
  auto it = bound_.find(to);
  if (it == bound_.end()) return;
  BusEndpoint& receiver = *it->second;
  if (Chance(faults_.drop_percent)) return void(++faults_injected_);
  if (!payload.empty() && Chance(faults_.corrupt_percent)) {
    ++faults_injected_;
    payload[rng_() % payload.size()] ^= static_cast<char>(1 + rng_() % 255);
  }
  const int copies = Chance(faults_.duplicate_percent) ? (++faults_injected_, 2) : 1;
  for (int i = 0; i < copies && receiver.inbox_.size() < kMaxInbox; ++i) {
    io::Message message{from, payload};
    if (!receiver.inbox_.empty() && Chance(faults_.reorder_percent)) {
      ++faults_injected_;
      const size_t at = rng_() % receiver.inbox_.size();
      receiver.inbox_.insert(receiver.inbox_.begin() + static_cast<long>(at), std::move(message));
    } else {
      receiver.inbox_.push_back(std::move(message));
    }
    ++delivered_;
  }
  receiver.arrived_.Set();
}

}  // namespace faultline::replication::testing
