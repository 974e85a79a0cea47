// harness/determinism_check.cc — see determinism_check.h.
#include "harness/determinism_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/split.h"
#include "reports/seed_result.h"

extern char** environ;

namespace faultline::harness {
namespace {

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Captured {
  std::string output;
  bool timed_out = false;
};

// Reads `fd` to its end, or until `deadline_ns` (then timed_out).
Captured ReadUntil(int fd, int64_t deadline_ns) {
  Captured captured;
  char chunk[65536];
  while (true) {
    const int64_t left_ms = (deadline_ns - WallNowNs()) / 1'000'000;
    if (left_ms <= 0) {
      captured.timed_out = true;
      return captured;
    }
    pollfd poll_fd{fd, POLLIN, 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (ready <= 0) continue;  // timeout slice or EINTR: check the deadline again
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return captured;
    captured.output.append(chunk, static_cast<size_t>(n));
  }
}

// Runs `argv` and returns its standard output (standard error is
// discarded); a run past `timeout_ns` is killed.
absl::StatusOr<Captured> CaptureOutput(const std::vector<std::string>& argv, int64_t timeout_ns) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2() failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  pid_t pid;
  const int spawn_error = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawn_error != 0) {
    close(fds[0]);
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": errno ", spawn_error));
  }
  Captured captured = ReadUntil(fds[0], WallNowNs() + timeout_ns);
  if (captured.timed_out) kill(pid, SIGKILL);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!captured.timed_out && WIFSIGNALED(status)) {
    absl::StrAppend(&captured.output, "<process died of signal ", WTERMSIG(status), ">\n");
  }
  return captured;
}

}  // namespace

absl::StatusOr<std::string> SelfExecutable() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return absl::InternalError("cannot read /proc/self/exe");
  return std::string(path, static_cast<size_t>(n));
}

std::optional<Divergence> FirstDifferingLine(const std::string& a, const std::string& b) {
  if (a == b) return std::nullopt;
  std::vector<std::string_view> lines_a = Split(a, '\n');
  std::vector<std::string_view> lines_b = Split(b, '\n');
  const size_t count = std::max(lines_a.size(), lines_b.size());
  for (size_t i = 0; i < count; ++i) {
    const std::string_view left = i < lines_a.size() ? lines_a[i] : "<end of output>";
    const std::string_view right = i < lines_b.size() ? lines_b[i] : "<end of output>";
    if (left != right) return Divergence{i + 1, std::string(left), std::string(right)};
  }
  return Divergence{count, "<same lines, different bytes>", ""};
}

absl::StatusOr<SeedCheck> CheckSeedDeterminism(const std::string& binary,
                                               const std::string& scenario, uint64_t seed,
                                               int64_t timeout_ns) {
  const std::vector<std::string> argv = {binary, "replay", scenario, "--seed",
                                         reports::Hex64(seed), "--trace", "--log-level", "off"};
  absl::StatusOr<Captured> first = CaptureOutput(argv, timeout_ns);
  if (!first.ok()) return first.status();
  if (first->timed_out) return SeedCheck{.timed_out = true};
  absl::StatusOr<Captured> second = CaptureOutput(argv, timeout_ns);
  if (!second.ok()) return second.status();
  if (second->timed_out) return SeedCheck{.timed_out = true};
  return SeedCheck{.divergence = FirstDifferingLine(first->output, second->output)};
}

}  // namespace faultline::harness
