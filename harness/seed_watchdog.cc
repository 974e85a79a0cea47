// harness/seed_watchdog.cc — see seed_watchdog.h.
#include "harness/seed_watchdog.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace faultline::harness {
namespace {

// Written by the handler; prepared before the alarm is armed.
char g_failure_text[4096];
size_t g_failure_bytes = 0;

extern "C" void OnSeedTimeout(int) {
  size_t written = 0;
  while (written < g_failure_bytes) {
    const ssize_t n = write(STDOUT_FILENO, g_failure_text + written, g_failure_bytes - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  _exit(1);
}

}  // namespace

void ArmSeedWatchdog(const std::string& failure_text, int64_t timeout_ns) {
  alarm(0);
  g_failure_bytes = std::min(failure_text.size(), sizeof g_failure_text);
  std::memcpy(g_failure_text, failure_text.data(), g_failure_bytes);
  struct sigaction action {};
  action.sa_handler = OnSeedTimeout;
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);
  const int64_t seconds = (timeout_ns + 999'999'999) / 1'000'000'000;
  alarm(static_cast<unsigned>(std::clamp<int64_t>(seconds, 1, 7 * 24 * 3600)));
}

void DisarmSeedWatchdog() { alarm(0); }

}  // namespace faultline::harness
