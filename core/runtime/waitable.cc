// core/runtime/waitable.cc — WaitAny (see waitable.h).
#include "core/runtime/waitable.h"

#include <array>

#include "core/base/check.h"

namespace faultline::runtime {
namespace {

std::optional<size_t> FirstReady(std::initializer_list<Waitable*> waitables) {
  size_t index = 0;
  for (Waitable* waitable : waitables) {
    if (waitable->IsReady()) return index;
    ++index;
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> WaitAny(Executor& executor, std::initializer_list<Waitable*> waitables,
                              int64_t timeout_ns) {
  FAULTLINE_CHECK(waitables.size() >= 1 && waitables.size() <= internal::kMaxWaitQueues);
  const int64_t deadline_ns = DeadlineAfter(executor.NowNs(), timeout_ns);
  std::array<internal::WaitQueue*, internal::kMaxWaitQueues> queues{};
  size_t count = 0;
  for (Waitable* waitable : waitables) queues[count++] = &waitable->ReadyQueue();
  // Each round either returns or parks once; rounds repeat only after a
  // wake-up whose readiness another fiber consumed first.
  while (true) {
    if (auto ready = FirstReady(waitables)) return ready;
    if (executor.NowNs() >= deadline_ns) return std::nullopt;
    int fired = internal::WaitOn(executor, absl::MakeConstSpan(queues.data(), count), deadline_ns,
                                 "WaitAny");
    if (fired == internal::kWaitKilled) return std::nullopt;
    if (fired == internal::kWaitTimedOut) return FirstReady(waitables);
    std::optional<size_t> ready = FirstReady(waitables);
    // Woken through queue `fired`, but returning another waitable: the
    // caller will not consume what `fired` signalled (a channel's item), and
    // a notify-one queue woke only this fiber for it. Pass the wake-up on,
    // or a fiber blocked on that queue alone sleeps with its item queued.
    const auto fired_index = static_cast<size_t>(fired);
    if (ready.has_value() && *ready != fired_index && queues[fired_index] != queues[*ready] &&
        waitables.begin()[fired_index]->IsReady()) {
      queues[fired_index]->NotifyOne(executor);
    }
    if (ready.has_value()) return ready;
  }
}

}  // namespace faultline::runtime
