// core/runtime/internal/stack_guard.cc — see stack_guard.h.
#include "core/runtime/internal/stack_guard.h"

#include <cstdio>
#include <cstdlib>

#include "core/runtime/internal/fiber_core.h"

namespace faultline::runtime::internal {
namespace {

// Appends to a fixed buffer without allocating or locking (signal-safe).
class SignalSafeWriter {
 public:
  SignalSafeWriter(char* out, size_t capacity) : out_(out), capacity_(capacity) {}
  void Text(const char* text, size_t length) {
    for (size_t i = 0; i < length && size_ < capacity_; ++i) out_[size_++] = text[i];
  }
  void Text(const char* text) { Text(text, std::strlen(text)); }
  void Number(uint64_t value) {
    char digits[20];
    size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) Text(&digits[--count], 1);
  }
  size_t size() const { return size_; }

 private:
  char* out_;
  size_t capacity_;
  size_t size_ = 0;
};

size_t FormatOverflow(const FiberCore& fiber, char* out, size_t capacity) {
  SignalSafeWriter writer(out, capacity);
  writer.Text("fiber '");
  writer.Text(fiber.name().data(), fiber.name().size());
  writer.Text("' (#");
  writer.Number(fiber.id());
  writer.Text(") overflowed its ");
  writer.Number(fiber.stack().size);
  writer.Text("-byte stack (a frame too large for it: raise the executor's stack_size_bytes "
              "or move the buffer to the heap)\n");
  return writer.size();
}

}  // namespace

void ReportStackOverflow(const FiberCore& fiber) {
  char message[512];
  const size_t length = FormatOverflow(fiber, message, sizeof(message));
  std::fwrite(message, 1, length, stderr);
  std::fflush(stderr);
  std::abort();
}

size_t FormatGuardFault(const void* fault_address, char* out, size_t capacity) {
  const FiberCore* fiber = running_fiber;
  if (fiber == nullptr || fiber->stack().sp == nullptr) return 0;
  const auto address = reinterpret_cast<uintptr_t>(fault_address);
  const auto bottom = reinterpret_cast<uintptr_t>(StackBottom(fiber->stack()));
  if (address >= bottom || bottom - address > kStackGuardBytes) return 0;
  return FormatOverflow(*fiber, out, capacity);
}

}  // namespace faultline::runtime::internal
