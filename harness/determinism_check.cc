// harness/determinism_check.cc — see determinism_check.h.
#include "harness/determinism_check.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/split.h"
#include "reports/seed_result.h"

extern char** environ;

namespace faultline::harness {
namespace {

// Runs `argv` and returns its standard output (standard error is discarded).
absl::StatusOr<std::string> CaptureOutput(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe() failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 1 /*O_WRONLY*/, 0);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
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
  std::string output;
  char chunk[65536];
  while (true) {
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    absl::StrAppend(&output, "<process died of signal ", WTERMSIG(status), ">\n");
  }
  return output;
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

absl::StatusOr<std::optional<Divergence>> CheckSeedDeterminism(const std::string& binary,
                                                               const std::string& scenario,
                                                               uint64_t seed) {
  const std::vector<std::string> argv = {binary, "replay", scenario, "--seed",
                                         reports::Hex64(seed), "--trace", "--log-level", "off"};
  absl::StatusOr<std::string> first = CaptureOutput(argv);
  if (!first.ok()) return first.status();
  absl::StatusOr<std::string> second = CaptureOutput(argv);
  if (!second.ok()) return second.status();
  return FirstDifferingLine(*first, *second);
}

}  // namespace faultline::harness
