// core/runtime/internal/fiber_core.cc — see fiber_core.h.
#include "core/runtime/internal/fiber_core.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/base/check.h"

#if defined(FAULTLINE_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace faultline::runtime::internal {

FiberCore::~FiberCore() {
  // A suspended continuation would be unwound by Boost's forced_unwind here,
  // behind the executor's back: executors unwind their fibers first.
  FAULTLINE_CHECK_MSG(!context_, "a fiber record was destroyed before its fiber finished");
#if defined(FAULTLINE_TSAN)
  __tsan_destroy_fiber(tsan_fiber_);
#endif
}

WakeReason FiberCore::KilledOrThrow() {
  if (std::uncaught_exceptions() == 0) throw FiberKilled{};
  if (++killed_waits_ > kMaxKilledWaits) {
    std::fprintf(stderr,
                 "fiber '%s' (#%llu) kept waiting while being unwound: %u parks or yields "
                 "returned at once (a destructor waits in a loop for another fiber, which "
                 "cannot run until this one has unwound)\n",
                 name().c_str(), static_cast<unsigned long long>(id()), kMaxKilledWaits);
    std::fflush(stderr);
    std::abort();
  }
  return WakeReason::kKilled;
}

boost::context::fiber FiberCore::Main(boost::context::fiber&& caller) {
#if defined(FAULTLINE_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, &caller_stack_bottom_, &caller_stack_size_);
#endif
  return_context_ = std::move(caller);
  // No exception may leave this function (Boost.Context's rule), except
  // Boost's own forced_unwind, which must pass through.
  if (!killed) {
    try {
      std::move(body_)();
    } catch (const FiberKilled&) {
      // Its node crashed or its executor shut down: the expected way out.
    } catch (const boost::context::detail::forced_unwind&) {
      throw;
    } catch (const std::exception& error) {
      failure_handler_->OnFiberFailed(*this, error.what());
    } catch (...) {
      failure_handler_->OnFiberFailed(*this, "an exception that is not a std::exception");
    }
  }
  // Destroy the body here, on the fiber's own stack: its captures'
  // destructors (a JoinHandle's done signal) may wake other fibers.
  body_ = nullptr;
  // The last check of the canary: a pooled stack must go back clean.
  if (!StackCanaryIntact(stack_)) ReportStackOverflow(*this);
  state = State::kDone;
#if defined(FAULTLINE_ASAN)
  // nullptr: this stack is finished, ASan may forget its fake frames.
  __sanitizer_start_switch_fiber(nullptr, caller_stack_bottom_, caller_stack_size_);
#endif
  // (Under ThreadSanitizer, Resume() switches back to the executor's
  // context once this fiber is gone: the frames that return from here still
  // run on this fiber's stack, and must not pop the executor's.)
  return std::move(return_context_);
}

}  // namespace faultline::runtime::internal
