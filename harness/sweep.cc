// harness/sweep.cc — see sweep.h.
//
// The parent polls one pipe per worker. A worker owes a stream of units
// (positions p, p + jobs, p + 2 jobs, ...) and reports "S <unit>" before and
// "R <unit> <result>" after each; the parent checks every line against the
// unit it expects next, so a worker that dies, hangs, or writes anything else
// costs exactly the seed it was running, and a fresh worker takes over the
// rest of its stream.
#include "harness/sweep.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "harness/worker_protocol.h"
#include "sim/scheduler/sim_log.h"

namespace faultline::harness {
namespace {

// A longer line without a newline is a protocol error, not a bigger buffer.
constexpr size_t kMaxLineBytes = size_t{64} << 20;
constexpr int kPollIntervalMs = 50;
// How long a worker whose pipe reached its end may take to exit before it is
// killed: long enough for a dying process, short enough that a seed which
// closed the pipe and runs on cannot stall the sweep.
constexpr int kExitGraceMs = 1000;

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Writes all of `text` to `fd`; a worker whose parent went away just exits.
void WriteAll(int fd, const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    written += static_cast<size_t>(n);
  }
}

// Waits up to kExitGraceMs for `pid` to end; false (after killing and
// reaping it) if it did not.
bool AwaitExit(pid_t pid, int& status) {
  for (int waited_ms = 0; waited_ms < kExitGraceMs; ++waited_ms) {
    const pid_t ended = waitpid(pid, &status, WNOHANG);
    if (ended == pid || (ended < 0 && errno != EINTR)) return true;
    usleep(1000);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return false;
}

// In a fresh worker: closes every descriptor >= 3 but `keep`, so a seed
// holds no other worker's pipe and no report file, whatever the parent had
// open (a scenario that writes to a descriptor can only reach its own pipe).
void CloseAllBut(int keep) {
  if (keep > 3) close_range(3, static_cast<unsigned>(keep) - 1, 0);
  close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
}

struct Worker {
  uint64_t serial = 0;                   // which worker of the sweep: pids and fds are reused
  pid_t pid = -1;
  int fd = -1;                           // -1 once stopped
  uint64_t next_position = 0;            // the next position of its stream it owes
  std::optional<uint64_t> in_progress;   // unit started, not finished
  int64_t started_ns = 0;                // when the parent learnt it started
  std::string buffer;                    // bytes read, not yet a full line
  // Set once reaped by waitpid(): its pid may then be another process's.
  std::optional<int> exit_status;
};

class Sweep {
 public:
  Sweep(const SweepOptions& options,
        const std::function<void(const reports::SeedResult&)>& on_failure)
      : options_(options),
        on_failure_(on_failure),
        per_scenario_(options.seed_count),
        total_units_(options.seed_count * options.scenarios.size()),
        stride_(static_cast<uint64_t>(options.jobs)),
        seed_limit_ns_(options.time_budget_ns > 0
                           ? std::min(options.seed_timeout_ns, options.time_budget_ns)
                           : options.seed_timeout_ns) {}

  SweepOutcome Run();

 private:
  const scenarios::Scenario& ScenarioOf(uint64_t unit) const {
    return *options_.scenarios[unit / per_scenario_];
  }
  uint64_t SeedOf(uint64_t unit) const { return options_.first_seed + unit % per_scenario_; }
  // Units in the order workers run them: ascending, or the mirror image.
  uint64_t UnitAt(uint64_t position) const {
    return options_.descending ? total_units_ - 1 - position : position;
  }
  uint64_t PositionOf(uint64_t unit) const { return UnitAt(unit); }  // its own inverse

  reports::SeedResult Unfinished(uint64_t unit, std::string outcome, std::string detail) const;
  void Record(uint64_t unit, reports::SeedResult result);
  std::optional<Worker> StartWorker(uint64_t first_position);
  [[noreturn]] void WorkerMain(int fd, uint64_t first_position);
  static void Stop(Worker& worker);
  void FailAndReplace(size_t index, uint64_t unit, std::string outcome, std::string detail);
  std::optional<std::string> HandleLine(Worker& worker, const std::string& line);
  bool ReadFrom(size_t index);
  void Reap(size_t index);
  void ReapExited();
  void EnforceSeedTimeouts();
  std::string TimeoutText() const;
  void StopAll(const char* why);
  void EndBudget();

  const SweepOptions& options_;
  const std::function<void(const reports::SeedResult&)>& on_failure_;
  const uint64_t per_scenario_;
  const uint64_t total_units_;
  const uint64_t stride_;
  // The wall time one seed may take: --seed-timeout-s, or the whole time
  // budget when that is shorter (seeds in progress at its end may finish).
  const int64_t seed_limit_ns_;
  // The time budget ran out: no seed starts any more; those in progress
  // finish or time out.
  bool budget_over_ = false;
  SweepOutcome outcome_;
  std::vector<std::pair<uint64_t, reports::SeedResult>> kept_;  // (unit, result)
  std::vector<Worker> workers_;  // stopped ones are erased
  uint64_t workers_started_ = 0;
};

reports::SeedResult Sweep::Unfinished(uint64_t unit, std::string outcome,
                                      std::string detail) const {
  reports::SeedResult result;
  result.scenario = ScenarioOf(unit).name;
  result.seed = SeedOf(unit);
  result.outcome = std::move(outcome);
  result.detail = std::move(detail);
  return result;
}

void Sweep::Record(uint64_t unit, reports::SeedResult result) {
  auto& tally = outcome_.tallies[unit / per_scenario_];
  ++tally.seeds;
  ++outcome_.seeds_run;
  tally.wall_time_ns += result.wall_time_ns;
  tally.virtual_time_ns += result.virtual_time_ns;
  for (const auto& [kind, count] : result.faults_injected) tally.faults_injected[kind] += count;
  for (const std::string& kind : result.faults_enabled) {
    ++tally.seeds_enabled[kind];
    const auto fired = result.faults_injected.find(kind);
    if (fired != result.faults_injected.end() && fired->second > 0) ++tally.seeds_fired[kind];
  }
  if (!result.passed) {
    ++tally.failures;
    ++outcome_.seeds_failed;
    on_failure_(result);
  }
  if (!result.passed || options_.keep_passed) kept_.emplace_back(unit, std::move(result));
}

// A fresh worker, or nullopt (and the sweep's error set) if the system
// refuses one (descriptors or processes exhausted).
std::optional<Worker> Sweep::StartWorker(uint64_t first_position) {
  // Close-on-exec: nothing a scenario (or anything it starts) execs inherits
  // the sweep's pipes.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    outcome_.error = absl::StrCat("cannot start a worker process: pipe2(): ", strerror(errno));
    return std::nullopt;
  }
  // The parent's end never blocks: ReapExited reads it to its current end.
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    outcome_.error = absl::StrCat("cannot start a worker process: fork(): ", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    // If the sweep dies (a CI job's timeout kills it), its workers die with
    // it rather than run on as orphans, hung seeds included.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(3);  // it died before prctl
    CloseAllBut(fds[1]);
    WorkerMain(fds[1], first_position);
  }
  close(fds[1]);
  return Worker{.serial = ++workers_started_, .pid = pid, .fd = fds[0],
                .next_position = first_position};
}

void Sweep::WorkerMain(int fd, uint64_t first_position) {
  for (uint64_t position = first_position; position < total_units_; position += stride_) {
    const uint64_t unit = UnitAt(position);
    WriteAll(fd, absl::StrCat("S ", unit, "\n"));
    std::string trace;
    reports::SeedResult result =
        RunOneSeed(ScenarioOf(unit), SeedOf(unit), options_.print_traces ? &trace : nullptr);
    if (options_.print_traces) {
      const std::string shown = FilterTrace(trace, options_.trace_filter);
      std::fwrite(shown.data(), 1, shown.size(), stdout);
    }
    // What the scenario printed goes out now: _exit does not flush stdio,
    // and a later seed may kill the process.
    std::fflush(nullptr);
    WriteAll(fd, absl::StrCat("R ", unit, " ", EncodeResult(result), "\n"));
  }
  close(fd);
  std::fflush(nullptr);
  _exit(0);
}

void Sweep::Stop(Worker& worker) {
  if (!worker.exit_status.has_value()) {
    kill(worker.pid, SIGKILL);
    while (waitpid(worker.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  close(worker.fd);
  worker.fd = -1;
}

// Records `unit` as failed, stops the worker, and starts a fresh one on the
// rest of its stream (or drops it if the stream is done).
void Sweep::FailAndReplace(size_t index, uint64_t unit, std::string outcome, std::string detail) {
  Worker& worker = workers_[index];
  if (worker.fd >= 0) Stop(worker);
  Record(unit, Unfinished(unit, std::move(outcome), std::move(detail)));
  const uint64_t resume = PositionOf(unit) + stride_;
  std::optional<Worker> fresh;
  if (resume < total_units_ && !budget_over_) fresh = StartWorker(resume);
  if (fresh.has_value()) {
    workers_[index] = std::move(*fresh);
  } else {
    workers_.erase(workers_.begin() + static_cast<long>(index));
  }
}

// Applies one protocol line; an error message if it is not the line the
// worker owes next.
std::optional<std::string> Sweep::HandleLine(Worker& worker, const std::string& line) {
  const size_t space = line.find(' ', 2);
  uint64_t unit = 0;
  if (line.size() < 3 || line[1] != ' ' ||
      !absl::SimpleAtoi(line.substr(2, space == std::string::npos ? space : space - 2), &unit)) {
    return "not a protocol line";
  }
  if (line[0] == 'S' && space == std::string::npos && !worker.in_progress.has_value() &&
      worker.next_position < total_units_ && unit == UnitAt(worker.next_position)) {
    worker.in_progress = unit;
    worker.started_ns = WallNowNs();
    return std::nullopt;
  }
  if (line[0] != 'R' || space == std::string::npos || worker.in_progress != unit) {
    return "not the line the worker owed";
  }
  std::optional<reports::SeedResult> result = DecodeResult(std::string_view(line).substr(space + 1));
  if (!result.has_value() || result->seed != SeedOf(unit) ||
      result->scenario != ScenarioOf(unit).name) {
    return "a malformed result";
  }
  worker.in_progress.reset();
  worker.next_position = PositionOf(unit) + stride_;
  Record(unit, std::move(*result));
  return std::nullopt;
}

// Reads what the worker wrote and applies each full line; whether any bytes
// were read. The worker may be replaced or erased on return.
bool Sweep::ReadFrom(size_t index) {
  Worker& worker = workers_[index];
  char chunk[65536];
  const ssize_t n = read(worker.fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
  if (n <= 0) {
    Reap(index);
    return false;
  }
  worker.buffer.append(chunk, static_cast<size_t>(n));
  size_t newline;
  while ((newline = worker.buffer.find('\n')) != std::string::npos ||
         worker.buffer.size() > kMaxLineBytes) {
    const size_t length = std::min(newline, kMaxLineBytes);
    const std::string line = worker.buffer.substr(0, length);
    worker.buffer.erase(0, std::min(length + 1, worker.buffer.size()));
    if (std::optional<std::string> error = HandleLine(worker, line)) {
      // Blame the seed it was running (or owed next): its code wrote there.
      const uint64_t unit = worker.in_progress.value_or(UnitAt(worker.next_position));
      FailAndReplace(index, unit, "worker protocol error",
                     absl::StrCat("the worker wrote ", *error,
                                  " to the sweep's pipe (did the scenario write to it?): \"",
                                  absl::CHexEscape(line.substr(0, 160)), "\""));
      return true;
    }
    if (!worker.in_progress.has_value() && (worker.next_position >= total_units_ || budget_over_)) {
      // It owes nothing more (or may start nothing more): stop it now rather
      // than wait for the end of its pipe, which a process its seeds left
      // behind may hold open.
      Stop(worker);
      workers_.erase(workers_.begin() + static_cast<long>(index));
      return true;
    }
  }
  return true;
}

// End of a worker's pipe before it reported every unit it owed: it died,
// or its seed closed the pipe (then it is given kExitGraceMs to end).
void Sweep::Reap(size_t index) {
  Worker& worker = workers_[index];
  close(worker.fd);
  worker.fd = -1;
  int status = worker.exit_status.value_or(0);
  const bool ended = worker.exit_status.has_value() || AwaitExit(worker.pid, status);
  const uint64_t unit = worker.in_progress.value_or(UnitAt(worker.next_position));
  FailAndReplace(index, unit, "worker crashed",
                 !ended ? std::string("the worker closed its pipe to the sweep and ran on; it "
                                      "was killed")
                 : WIFSIGNALED(status)
                     ? absl::StrCat("the worker process died of signal ", WTERMSIG(status), " (",
                                    strsignal(WTERMSIG(status)), ")")
                     : absl::StrCat("the worker process exited with status ",
                                    WEXITSTATUS(status)));
}

// A worker that died while a process its seed left behind holds its pipe
// never gives an end of pipe: waitpid() finds it. What it wrote before it
// died is applied first.
void Sweep::ReapExited() {
  for (size_t i = 0; i < workers_.size(); ++i) {
    int status = 0;
    const uint64_t serial = workers_[i].serial;
    if (waitpid(workers_[i].pid, &status, WNOHANG) != workers_[i].pid) continue;
    workers_[i].exit_status = status;
    auto still_there = [&] { return i < workers_.size() && workers_[i].serial == serial; };
    while (still_there() && ReadFrom(i)) {
    }
    if (still_there()) Reap(i);
    return;  // indexes may have shifted; the next round checks the others
  }
}

void Sweep::EnforceSeedTimeouts() {
  const int64_t now_ns = WallNowNs();
  for (size_t i = 0; i < workers_.size(); ++i) {
    const Worker& worker = workers_[i];
    if (!worker.in_progress.has_value() || now_ns - worker.started_ns <= seed_limit_ns_) {
      continue;
    }
    FailAndReplace(i, *worker.in_progress, "timeout",
                   absl::StrCat(TimeoutText(), "; its worker was killed"));
    return;  // indexes may have shifted; the next round checks the others
  }
}

std::string Sweep::TimeoutText() const {
  if (seed_limit_ns_ == options_.seed_timeout_ns) return TimeoutDetail(options_.seed_timeout_ns);
  return absl::StrCat("the seed ran past the ", seed_limit_ns_ / 1'000'000'000,
                      " s wall-clock limit (--time-budget: no seed may take longer than the "
                      "whole budget)");
}

// The time budget ran out: workers between seeds stop (their next seeds are
// not run); a seed in progress runs on until it ends or times out, so that
// a seed that hangs fails (a timeout) instead of passing for not run.
void Sweep::EndBudget() {
  budget_over_ = true;
  outcome_.time_budget_reached = true;
  for (size_t i = 0; i < workers_.size();) {
    if (workers_[i].in_progress.has_value()) {
      ++i;
      continue;
    }
    Stop(workers_[i]);
    workers_.erase(workers_.begin() + static_cast<long>(i));
  }
}

// Stops every worker: the seeds in progress are not run (`why`).
void Sweep::StopAll(const char* why) {
  for (Worker& worker : workers_) {
    if (worker.in_progress.has_value()) {
      outcome_.interrupted.push_back(Unfinished(*worker.in_progress, "not run", why));
    }
    Stop(worker);
  }
  workers_.clear();
}

SweepOutcome Sweep::Run() {
  for (const auto* scenario : options_.scenarios) outcome_.tallies.push_back({scenario->name});
  for (uint64_t w = 0; w < stride_ && w < total_units_ && outcome_.error.empty(); ++w) {
    if (std::optional<Worker> worker = StartWorker(w)) workers_.push_back(std::move(*worker));
  }
  const int64_t start_ns = WallNowNs();
  while (!workers_.empty()) {
    if (!outcome_.error.empty()) {
      StopAll("in progress when the sweep stopped");
      break;
    }
    if (!budget_over_ && options_.time_budget_ns > 0 &&
        WallNowNs() - start_ns > options_.time_budget_ns) {
      EndBudget();
      continue;
    }
    EnforceSeedTimeouts();
    ReapExited();
    std::vector<pollfd> polls;
    for (const Worker& worker : workers_) polls.push_back(pollfd{worker.fd, POLLIN, 0});
    const int ready = poll(polls.data(), polls.size(), kPollIntervalMs);
    if (ready < 0 && errno != EINTR) FAULTLINE_CHECK_MSG(false, "poll() failed");
    if (ready <= 0) continue;
    // One worker per round: reading may replace or erase workers, shifting
    // indexes; the others are still ready at the next poll.
    for (size_t i = 0; i < polls.size(); ++i) {
      if (polls[i].revents != 0) {
        ReadFrom(i);
        break;
      }
    }
  }
  outcome_.seeds_not_run = total_units_ - outcome_.seeds_run;
  std::sort(kept_.begin(), kept_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [unit, result] : kept_) outcome_.results.push_back(std::move(result));
  return std::move(outcome_);
}

}  // namespace

std::string TimeoutDetail(int64_t seed_timeout_ns) {
  return absl::StrCat("the seed ran past the ", seed_timeout_ns / 1'000'000'000,
                      " s wall-clock limit (--seed-timeout-s)");
}

reports::SeedResult RunOneSeed(const scenarios::Scenario& scenario, uint64_t seed,
                               std::string* trace_dump) {
  const int64_t start_ns = WallNowNs();
  scenarios::ScenarioOptions options{.seed = seed, .record_trace = trace_dump != nullptr};
  scenarios::ScenarioResult run = scenario.run(options);
  reports::SeedResult result;
  result.scenario = scenario.name;
  result.seed = seed;
  result.passed = run.passed();
  if (!run.violation.empty()) {
    result.outcome = "violation";
    result.detail = run.violation;
  } else {
    result.outcome = std::string(sim::OutcomeName(run.run.outcome));
    result.detail = run.run.detail;
  }
  result.trace_hash = run.run.trace_hash;
  result.steps = run.run.steps;
  result.virtual_time_ns = run.run.end_time_ns;
  result.wall_time_ns = WallNowNs() - start_ns;
  result.faults_injected = run.faults_injected;
  result.faults_enabled = run.faults_enabled;
  if (trace_dump != nullptr) *trace_dump = std::move(run.trace_dump);
  return result;
}

SweepOutcome RunSweep(const SweepOptions& options,
                      const std::function<void(const reports::SeedResult&)>& on_failure) {
  FAULTLINE_CHECK(options.jobs >= 1 && options.jobs <= 256);
  FAULTLINE_CHECK(options.seed_count >= 1);
  FAULTLINE_CHECK(options.seed_timeout_ns > 0);
  return Sweep(options, on_failure).Run();
}

}  // namespace faultline::harness
