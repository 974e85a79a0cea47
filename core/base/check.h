// core/base/check.h — assertions that stay on in every build.
//
// Invariants are asserted in code (TIGER_STYLE): a violated invariant is a
// bug, and continuing would only corrupt state further, so FAULTLINE_CHECK
// prints where and why and aborts the process. In a seed sweep each seed
// runs in a worker process, so an abort fails that seed, not the sweep.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace faultline::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* condition,
                                     const char* message) {
  std::fprintf(stderr, "%s:%d: FAULTLINE_CHECK(%s) failed%s%s\n", file, line, condition,
               message[0] != '\0' ? ": " : "", message);
  std::fflush(stderr);
  std::abort();
}
}  // namespace faultline::internal

#define FAULTLINE_CHECK(condition)                                                  \
  do {                                                                              \
    if (__builtin_expect(!(condition), 0))                                          \
      ::faultline::internal::CheckFailed(__FILE__, __LINE__, #condition, "");       \
  } while (false)

#define FAULTLINE_CHECK_MSG(condition, message)                                     \
  do {                                                                              \
    if (__builtin_expect(!(condition), 0))                                          \
      ::faultline::internal::CheckFailed(__FILE__, __LINE__, #condition, message);  \
  } while (false)
