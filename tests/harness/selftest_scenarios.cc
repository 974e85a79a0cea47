// tests/harness/selftest_scenarios.cc — see selftest_scenarios.h.
#include "tests/harness/selftest_scenarios.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "scenarios/registry.h"
#include "scenarios/wal/wal_scenarios.h"
#include "tests/scenarios/buggy_file_systems.h"

namespace faultline::harness::selftest {
namespace {

using scenarios::Scenario;
using scenarios::ScenarioOptions;
using scenarios::ScenarioResult;

ScenarioResult Passed(uint64_t seed) {
  ScenarioResult result;
  result.run.trace_hash = seed * 0x9E3779B97F4A7C15ull + 1;
  result.run.steps = 1;
  return result;
}

// Sleeps kHangSeconds of wall time, in short steps.
void SleepBounded() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(kHangSeconds);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ScenarioResult Hang(const ScenarioOptions& options) {
  if (options.seed % 4 == 2) SleepBounded();
  return Passed(options.seed);
}

// Ends the process mid-seed with status 0: through exit() (atexit handlers
// and stdio flushed) or _exit() (neither).
ScenarioResult ExitsZero(const ScenarioOptions& options) {
  if (options.seed % 4 == 1) std::exit(0);
  if (options.seed % 4 == 2) _exit(0);
  return Passed(options.seed);
}

// Hangs with every signal it can block blocked and SIGALRM ignored, and
// cancels any alarm: only a SIGKILL from outside ends it early.
ScenarioResult HangsSignalsBlocked(const ScenarioOptions& options) {
  if (options.seed % 4 == 2) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, nullptr);
    signal(SIGALRM, SIG_IGN);
    alarm(0);
    SleepBounded();
  }
  return Passed(options.seed);
}

ScenarioResult Prints(const ScenarioOptions& options) {
  std::printf("selftest_prints says hello from seed %llu\n",
              static_cast<unsigned long long>(options.seed));
  return Passed(options.seed);
}

// The open descriptors >= 3 of this process, except the one reading the list.
std::vector<int> OpenDescriptors() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  FAULTLINE_CHECK(dir != nullptr);
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd >= 3 && fd != dirfd(dir)) fds.push_back(fd);
  }
  closedir(dir);
  return fds;
}

bool IsPipe(int fd) {
  struct stat info;
  return fstat(fd, &info) == 0 && S_ISFIFO(info.st_mode);
}

ScenarioResult GarblesProtocol(const ScenarioOptions& options) {
  if (options.seed % 3 == 1) {
    for (int fd : OpenDescriptors()) {
      if (IsPipe(fd) && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
        (void)!write(fd, "this is not a protocol line\n", 28);
      }
    }
  }
  return Passed(options.seed);
}

// A sweep worker should hold nothing but the write end of its own pipe to
// the parent (close-on-exec): no report file, no other worker's pipe.
ScenarioResult FdHygiene(const ScenarioOptions& options) {
  ScenarioResult result = Passed(options.seed);
  bool own_pipe_seen = false;
  for (int fd : OpenDescriptors()) {
    char target[256] = {};
    (void)!readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), target, sizeof target - 1);
    const bool own_pipe =
        !own_pipe_seen && IsPipe(fd) && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY;
    if (!own_pipe) {
      absl::StrAppend(&result.violation, "holds fd ", fd, " (", target, "); ");
    } else if ((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) {
      absl::StrAppend(&result.violation, "its pipe, fd ", fd, ", lacks close-on-exec; ");
    }
    own_pipe_seen = own_pipe_seen || own_pipe;
  }
  return result;
}

ScenarioResult HostileDetail(const ScenarioOptions& options) {
  ScenarioResult result = Passed(options.seed);
  result.violation = "d\xC3\xA9tail\t\x1B[31mred\r\nFAIL forged seed=0x0\x01 bad\xFF byte";
  return result;
}

ScenarioResult LeakyStatic(const ScenarioOptions& options) {
  static uint64_t previous_seed = 0;  // the leak: survives from one seed to the next
  ScenarioResult result = Passed(options.seed);
  result.run.trace_hash ^= previous_seed;
  previous_seed = options.seed;
  return result;
}

// Closes every descriptor >= 3 (its sweep pipe too, as daemonizing code
// does), then hangs.
ScenarioResult ClosesPipeAndHangs(const ScenarioOptions& options) {
  if (options.seed % 4 == 2) {
    for (int fd : OpenDescriptors()) close(fd);
    SleepBounded();
  }
  return Passed(options.seed);
}

// Leaves a child process behind that holds every descriptor the seed had
// (its sweep pipe too) but stdio, which it points at /dev/null, and lives on
// for kHangSeconds.
ScenarioResult ForksLingeringChild(const ScenarioOptions& options) {
  if (options.seed % 4 == 1) {
    std::fflush(nullptr);
    if (fork() == 0) {
      const int null_fd = open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; ++fd) dup2(null_fd, fd);
      SleepBounded();
      _exit(0);
    }
  }
  return Passed(options.seed);
}

// Writes its process id to the file FAULTLINE_SELFTEST_PID_FILE names, then
// hangs (bounded): a test can then kill the sweep and watch the worker.
ScenarioResult HangsTellingPid(const ScenarioOptions& options) {
  const char* path = std::getenv("FAULTLINE_SELFTEST_PID_FILE");
  if (path != nullptr) {
    const std::string pid = absl::StrCat(getpid(), "\n");
    const std::string partial = absl::StrCat(path, ".partial");
    const int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FAULTLINE_CHECK(fd >= 0 && write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()));
    close(fd);
    FAULTLINE_CHECK(rename(partial.c_str(), path) == 0);  // whole, or not there
  }
  SleepBounded();
  return Passed(options.seed);
}

// As ForksLingeringChild, then aborts: its worker dies while the child
// still holds the sweep pipe open.
ScenarioResult ForksThenAborts(const ScenarioOptions& options) {
  ForksLingeringChild(options);
  if (options.seed % 4 == 1) std::abort();
  return Passed(options.seed);
}

ScenarioResult FailsEverySeed(const ScenarioOptions& options) {
  ScenarioResult result = Passed(options.seed);
  result.violation = "always fails";
  return result;
}

// Every seed fails, like a planted bug found by a sweep: seeds 0 mod 3
// break "prefix", the others "clean-recovery", worded as the durability
// checker words them. Seeds 3 mod 4 inject one fault, the others three; the
// step count varies with the seed, so that within each invariant the first
// failing seed is not the simplest (fewest faults, then fewest steps).
ScenarioResult ManyFailures(const ScenarioOptions& options) {
  const uint64_t seed = options.seed;
  ScenarioResult result = Passed(seed);
  result.run.steps = 100 + (seed * 13) % 31;
  result.faults_injected = seed % 4 == 3 ? std::map<std::string, uint64_t>{{"crash", 1}}
                                         : std::map<std::string, uint64_t>{{"crash", 1}, {"eio", 2}};
  const std::string faults = seed % 4 == 3 ? "crash=1" : "crash=1 eio=2";
  result.violation = absl::StrCat("durability violated: ", seed % 3 == 0 ? "prefix" : "clean-recovery",
                                  " at sequence ", seed, ": the acknowledged record is gone",
                                  "; faults injected: ", faults);
  return result;
}

// wal_crash over a WAL planted with a bug (it acknowledges a batch before
// its sync completed): many seeds fail, on more than one invariant, as when
// a sweep finds a real bug.
ScenarioResult WalAckBeforeSync(const ScenarioOptions& options) {
  scenarios::WalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner,
                              const wal::WalOptions&) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<scenarios::testing::AckBeforeSyncFileSystem>(inner);
  };
  return scenarios::RunWalScenario(scenarios::WalScenarioKind::kCrash, options, hooks);
}

}  // namespace

void CloseInheritedDescriptors() {
  for (int fd : OpenDescriptors()) close(fd);
}

// Enables "fires" and "never_fires" on every seed; only the first fires
// (on even seeds): a sweep must flag the second.
ScenarioResult UnfiredKind(const ScenarioOptions& options) {
  ScenarioResult result = Passed(options.seed);
  result.faults_enabled = {"fires", "never_fires"};
  if (options.seed % 2 == 0) result.faults_injected["fires"] = 1;
  return result;
}

const std::vector<Scenario>& SelftestScenarios() {
  static const std::vector<Scenario> list = {
      {"selftest_hang", "seeds 2 mod 4 hang (bounded) in wall-clock sleeps", Hang},
      {"selftest_prints", "prints a line on stdout per seed", Prints},
      {"selftest_unfired_kind", "enables a fault kind that never fires", UnfiredKind},
      {"selftest_garbles_protocol", "seeds 1 mod 3 write garbage to every writable pipe",
       GarblesProtocol},
      {"selftest_fd_hygiene", "fails if its worker holds any descriptor but its own pipe",
       FdHygiene},
      {"selftest_hostile_detail", "fails every seed with control bytes and UTF-8 in the detail",
       HostileDetail},
      {"selftest_leaky_static", "its hash depends on the previous seed run in the process",
       LeakyStatic},
      {"selftest_exits_zero", "seeds 1 mod 4 call exit(0), seeds 2 mod 4 _exit(0), mid-seed",
       ExitsZero},
      {"selftest_hangs_signals_blocked",
       "seeds 2 mod 4 hang (bounded) with signals blocked and SIGALRM ignored",
       HangsSignalsBlocked},
      {"selftest_closes_pipe", "seeds 2 mod 4 close every descriptor >= 3, then hang (bounded)",
       ClosesPipeAndHangs},
      {"selftest_forks", "seeds 1 mod 4 leave a child holding their descriptors (bounded)",
       ForksLingeringChild},
      {"selftest_forks_then_aborts",
       "seeds 1 mod 4 leave a child holding their descriptors (bounded), then abort",
       ForksThenAborts},
      {"selftest_hangs_telling_pid",
       "writes its pid to $FAULTLINE_SELFTEST_PID_FILE, then hangs (bounded)", HangsTellingPid},
      {"selftest it's spaced", "a name a shell splits; fails every seed", FailsEverySeed},
      {"selftest_many_failures", "fails every seed, breaking one of two invariants",
       ManyFailures},
      {"selftest_wal_ack_before_sync", "wal_crash over a WAL that acknowledges before syncing",
       WalAckBeforeSync},
  };
  return list;
}

const std::vector<Scenario>& AllScenariosWithSelftests() {
  static const std::vector<Scenario> list = [] {
    std::vector<Scenario> all = scenarios::AllScenarios();
    for (const Scenario& scenario : SelftestScenarios()) all.push_back(scenario);
    return all;
  }();
  return list;
}

const Scenario& Selftest(const char* name) {
  for (const Scenario& scenario : AllScenariosWithSelftests()) {
    if (scenario.name == name) return scenario;
  }
  FAULTLINE_CHECK_MSG(false, "no such selftest scenario");
  std::abort();
}

}  // namespace faultline::harness::selftest
