// core/posix/internal/fiber_stack.cc — see fiber_stack.h.
#include "core/posix/internal/fiber_stack.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/base/check.h"
#include "core/runtime/internal/stack_guard.h"

#if defined(FAULTLINE_VALGRIND)
#include <valgrind/valgrind.h>
#endif

namespace faultline::posix::internal {
namespace {

using runtime::internal::kStackGuardBytes;

// Large enough for the handler and for sanitizers' own handlers after it.
constexpr size_t kAltStackBytes = 64 * 1024;

size_t PageSize() {
  static const size_t page_size_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page_size_bytes;
}

size_t RoundUpToPages(size_t bytes) {
  const size_t page = PageSize();
  return (bytes + page - 1) / page * page;
}

// At least kStackGuardBytes, and an odd number of pages per mapping: mappings
// are laid side by side, and with a power-of-two stride every fiber's hot
// top-of-stack lines would fall into the same cache sets (a 64 KiB gap under
// 64 KiB stacks made a yield among 1,000 fibers 1.5x slower).
size_t GuardBytesFor(size_t stack_bytes) {
  const size_t page = PageSize();
  size_t guard_bytes = RoundUpToPages(kStackGuardBytes);
  if (((guard_bytes + stack_bytes) / page) % 2 == 0) guard_bytes += page;
  return guard_bytes;
}

struct sigaction previous_segv_action;

void OnSegv(int signal_number, siginfo_t* info, void* context) {
  char message[512];
  // Only a fault the kernel raised has an address; one sent by kill() or
  // raise() (si_code <= 0) carries a sender there instead.
  const bool is_fault = info->si_code > 0;
  const size_t length =
      is_fault ? runtime::internal::FormatGuardFault(info->si_addr, message, sizeof(message)) : 0;
  if (length > 0) {
    [[maybe_unused]] ssize_t written = write(STDERR_FILENO, message, length);
    abort();
  }
  // Not a fiber's overflow: whoever handled SIGSEGV before us decides.
  if ((previous_segv_action.sa_flags & SA_SIGINFO) != 0) {
    previous_segv_action.sa_sigaction(signal_number, info, context);
  } else if (previous_segv_action.sa_handler != SIG_DFL &&
             previous_segv_action.sa_handler != SIG_IGN) {
    previous_segv_action.sa_handler(signal_number);
  } else {
    // Restore the previous action and raise the signal again: it is blocked
    // until this handler returns, and then acts as if this handler had never
    // been installed — also for a signal sent by kill() or raise(), which,
    // unlike a fault, does not come back by itself once the handler returns.
    sigaction(SIGSEGV, &previous_segv_action, nullptr);
    raise(signal_number);
  }
}

void InstallHandlerOnce() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_sigaction = OnSegv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    FAULTLINE_CHECK(sigaction(SIGSEGV, &action, &previous_segv_action) == 0);
    return true;
  }();
  (void)installed;
}

void InstallAltStackOnce() {
  thread_local bool has_alt_stack = false;
  if (has_alt_stack) return;
  stack_t current{};
  FAULTLINE_CHECK(sigaltstack(nullptr, &current) == 0);
  if ((current.ss_flags & SS_DISABLE) != 0 || current.ss_size < kAltStackBytes / 2) {
    // One per thread that runs fibers, kept for the thread's life (a thread
    // may exit while a handler could still need it: never freed).
    void* memory = mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FAULTLINE_CHECK_MSG(memory != MAP_FAILED, "cannot map an alternate signal stack");
    stack_t alt{};
    alt.ss_sp = memory;
    alt.ss_size = kAltStackBytes;
    FAULTLINE_CHECK(sigaltstack(&alt, nullptr) == 0);
  }
  has_alt_stack = true;
}

}  // namespace

boost::context::stack_context MapFiberStack(size_t usable_bytes) {
  const size_t stack_bytes = RoundUpToPages(usable_bytes);
  const size_t guard_bytes = GuardBytesFor(stack_bytes);
  const size_t mapping_bytes = guard_bytes + stack_bytes;
  void* base = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    std::fprintf(stderr, "faultline: cannot map a %zu-byte fiber stack\n", mapping_bytes);
    std::abort();
  }
  // The lowest part catches overflows (stacks grow down).
  FAULTLINE_CHECK(mprotect(base, guard_bytes, PROT_NONE) == 0);
  boost::context::stack_context stack;
  stack.size = stack_bytes;
  stack.sp = static_cast<char*>(base) + mapping_bytes;
  return stack;
}

void UnmapFiberStack(const boost::context::stack_context& stack) {
  const size_t guard_bytes = GuardBytesFor(stack.size);
  char* base = static_cast<char*>(stack.sp) - stack.size - guard_bytes;
  FAULTLINE_CHECK(munmap(base, guard_bytes + stack.size) == 0);
}

boost::context::stack_context GuardedStackAllocator::allocate() {
  boost::context::stack_context stack = MapFiberStack(usable_bytes_);
#if defined(FAULTLINE_VALGRIND)
  stack.valgrind_stack_id =
      VALGRIND_STACK_REGISTER(stack.sp, static_cast<char*>(stack.sp) - stack.size);
#endif
  return stack;
}

void GuardedStackAllocator::deallocate(boost::context::stack_context& stack) {
#if defined(FAULTLINE_VALGRIND)
  VALGRIND_STACK_DEREGISTER(stack.valgrind_stack_id);
#endif
  UnmapFiberStack(stack);
}

void InstallStackOverflowReporter() {
  InstallHandlerOnce();
  InstallAltStackOnce();
}

}  // namespace faultline::posix::internal
