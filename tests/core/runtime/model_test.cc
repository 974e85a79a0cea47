// RapidCheck model tests: Channel and Mutex, driven by random programs under
// random seeds, must agree with simple sequential models.
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/runtime/channel.h"
#include "core/runtime/mutex.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::runtime {
namespace {

using sim::Scheduler;
using sim::SchedulerOptions;

// --- Channel, one fiber: every operation agrees with a bounded deque. ------

enum class ChannelOp { kTrySend, kTryReceive, kSendWithTimeout, kReceiveWithTimeout, kClose };

RC_GTEST_PROP(ChannelModel, SequentialOperationsMatchABoundedDeque,
              (uint64_t seed, uint8_t capacity_raw)) {
  const size_t capacity = 1 + capacity_raw % 8;
  const auto ops = *rc::gen::container<std::vector<ChannelOp>>(
      rc::gen::element(ChannelOp::kTrySend, ChannelOp::kTryReceive, ChannelOp::kSendWithTimeout,
                       ChannelOp::kReceiveWithTimeout, ChannelOp::kTrySend, ChannelOp::kClose));
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  Channel<int> channel(scheduler, capacity);
  bool completed = false;
  scheduler.StartFiber("driver", [&] {
    std::deque<int> model;
    bool closed = false;
    int next_value = 0;
    for (ChannelOp op : ops) {
      switch (op) {
        case ChannelOp::kTrySend:
        case ChannelOp::kSendWithTimeout: {
          absl::Status status = op == ChannelOp::kTrySend
                                    ? channel.TrySend(next_value)
                                    : channel.Send(next_value, scheduler.NowNs() + 5);
          if (closed) {
            RC_ASSERT(absl::IsFailedPrecondition(status));
          } else if (model.size() == capacity) {
            const bool expected_error = op == ChannelOp::kTrySend
                                            ? absl::IsResourceExhausted(status)
                                            : absl::IsDeadlineExceeded(status);
            RC_ASSERT(expected_error);
          } else {
            RC_ASSERT(status.ok());
            model.push_back(next_value);
          }
          ++next_value;
          break;
        }
        case ChannelOp::kTryReceive: {
          std::optional<int> got = channel.TryReceive();
          if (model.empty()) {
            RC_ASSERT(!got.has_value());
          } else {
            RC_ASSERT(got == model.front());
            model.pop_front();
          }
          break;
        }
        case ChannelOp::kReceiveWithTimeout: {
          absl::StatusOr<int> got = channel.Receive(scheduler.NowNs() + 5);
          if (!model.empty()) {
            RC_ASSERT(got.ok() && *got == model.front());
            model.pop_front();
          } else {
            const bool expected_error = closed ? absl::IsOutOfRange(got.status())
                                               : absl::IsDeadlineExceeded(got.status());
            RC_ASSERT(expected_error);
          }
          break;
        }
        case ChannelOp::kClose:
          channel.Close();
          closed = true;
          break;
      }
      RC_ASSERT(channel.size() == model.size());
    }
    completed = true;
  });
  RC_ASSERT(scheduler.Run().ok());
  RC_ASSERT(completed);
}

// --- Channel, many fibers: nothing lost, nothing duplicated, per-producer
// order kept, the bound never exceeded. -----------------------------------

RC_GTEST_PROP(ChannelModel, ConcurrentProducersAndConsumersLoseNothing, (uint64_t seed)) {
  const int producers = *rc::gen::inRange(1, 5);
  const int consumers = *rc::gen::inRange(1, 5);
  const int per_producer = *rc::gen::inRange(0, 40);
  const size_t capacity = *rc::gen::inRange<size_t>(1, 6);
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  Channel<std::pair<int, int>> channel(scheduler, capacity);
  std::map<int, std::vector<int>> received_by_producer;
  int producers_left = producers;
  bool bound_held = true;
  for (int p = 0; p < producers; ++p) {
    scheduler.StartFiber("producer", [&, p] {
      for (int i = 0; i < per_producer; ++i) {
        RC_ASSERT(channel.Send({p, i}).ok());
        bound_held &= channel.size() <= capacity;
        if (i % 3 == 0) scheduler.Yield();
      }
      if (--producers_left == 0) channel.Close();
    });
  }
  for (int c = 0; c < consumers; ++c) {
    scheduler.StartFiber("consumer", [&] {
      while (true) {
        absl::StatusOr<std::pair<int, int>> item = channel.Receive();
        if (!item.ok()) break;
        received_by_producer[item->first].push_back(item->second);
        if (item->second % 2 == 0) scheduler.SleepFor(1);
      }
    });
  }
  RC_ASSERT(scheduler.Run().outcome == sim::RunResult::Outcome::kCompleted);
  RC_ASSERT(bound_held);
  for (int p = 0; p < producers; ++p) {
    std::vector<int> expected(per_producer);
    for (int i = 0; i < per_producer; ++i) expected[i] = i;
    // One channel, FIFO: each producer's items arrive in the order sent.
    RC_ASSERT(received_by_producer[p] == expected);
  }
}

// --- Mutex: mutual exclusion and no lost updates. ---------------------------

RC_GTEST_PROP(MutexModel, CriticalSectionsNeverOverlapAndNoUpdateIsLost, (uint64_t seed)) {
  const int fibers = *rc::gen::inRange(1, 8);
  const auto sections_per_fiber = *rc::gen::inRange(1, 20);
  Scheduler scheduler(SchedulerOptions{.seed = seed});
  Mutex mutex(scheduler);
  int holders = 0;
  int max_holders = 0;
  int64_t counter = 0;
  for (int f = 0; f < fibers; ++f) {
    scheduler.StartFiber("worker", [&, f] {
      for (int s = 0; s < sections_per_fiber; ++s) {
        const bool use_try = (f + s) % 3 == 0;
        if (use_try && mutex.TryLock()) {
          // Model: TryLock succeeds only when nobody holds it.
          RC_ASSERT(holders == 0);
        } else {
          mutex.Lock();
        }
        ++holders;
        max_holders = std::max(max_holders, holders);
        // A read-modify-write split by parks: without exclusion, updates are lost.
        const int64_t read = counter;
        if (s % 2 == 0) scheduler.Yield(); else scheduler.SleepFor(1 + (f % 3));
        counter = read + 1;
        --holders;
        mutex.Unlock();
        if (s % 4 == 0) scheduler.Yield();
      }
    });
  }
  RC_ASSERT(scheduler.Run().outcome == sim::RunResult::Outcome::kCompleted);
  RC_ASSERT(max_holders == 1);
  RC_ASSERT(counter == int64_t{fibers} * sections_per_fiber);
  RC_ASSERT(!mutex.locked());
}

}  // namespace
}  // namespace faultline::runtime
