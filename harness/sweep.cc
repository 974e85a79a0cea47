// harness/sweep.cc — see sweep.h.
#include "harness/sweep.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "harness/worker_protocol.h"
#include "sim/scheduler/sim_log.h"

namespace faultline::harness {
namespace {

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

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  uint64_t next_unit = 0;                // the next unit this worker's stream owes
  std::optional<uint64_t> in_progress;   // started, not finished
  std::string buffer;                    // bytes read, not yet a full line
};

}  // namespace

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
  if (trace_dump != nullptr) *trace_dump = std::move(run.trace_dump);
  return result;
}

SweepOutcome RunSweep(const SweepOptions& options,
                      const std::function<void(const reports::SeedResult&)>& on_failure) {
  FAULTLINE_CHECK(options.jobs >= 1 && options.jobs <= 256);
  FAULTLINE_CHECK(options.seed_count >= 1);
  const uint64_t per_scenario = options.seed_count;
  const uint64_t total_units = per_scenario * options.scenarios.size();
  const uint64_t stride = static_cast<uint64_t>(options.jobs);
  auto scenario_of = [&](uint64_t unit) { return options.scenarios[unit / per_scenario]; };
  auto seed_of = [&](uint64_t unit) { return options.first_seed + unit % per_scenario; };

  SweepOutcome outcome;
  for (const auto* scenario : options.scenarios) outcome.tallies.push_back({scenario->name});
  std::vector<std::pair<uint64_t, reports::SeedResult>> kept;  // (unit, result)

  auto record = [&](uint64_t unit, reports::SeedResult result) {
    auto& tally = outcome.tallies[unit / per_scenario];
    ++tally.seeds;
    ++outcome.seeds_run;
    tally.wall_time_ns += result.wall_time_ns;
    tally.virtual_time_ns += result.virtual_time_ns;
    for (const auto& [kind, count] : result.faults_injected) tally.faults_injected[kind] += count;
    if (!result.passed) {
      ++tally.failures;
      ++outcome.seeds_failed;
      on_failure(result);
    }
    if (!result.passed || options.keep_passed) kept.emplace_back(unit, std::move(result));
  };

  // Starts a worker for the stream of units first_unit, first_unit + stride, ...
  auto start_worker = [&](uint64_t first_unit) -> Worker {
    int fds[2];
    FAULTLINE_CHECK_MSG(pipe(fds) == 0, "pipe() failed");
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    FAULTLINE_CHECK_MSG(pid >= 0, "fork() failed");
    if (pid == 0) {
      close(fds[0]);
      for (uint64_t unit = first_unit; unit < total_units; unit += stride) {
        WriteAll(fds[1], absl::StrCat("S ", unit, "\n"));
        reports::SeedResult result = RunOneSeed(*scenario_of(unit), seed_of(unit), nullptr);
        // What the scenario printed goes out now: _exit does not flush
        // stdio, and a later seed may kill the process.
        std::fflush(nullptr);
        WriteAll(fds[1], absl::StrCat("R ", unit, " ", EncodeResult(result), "\n"));
      }
      close(fds[1]);
      std::fflush(nullptr);
      _exit(0);
    }
    close(fds[1]);
    return Worker{.pid = pid, .fd = fds[0], .next_unit = first_unit};
  };

  std::vector<Worker> workers;
  for (uint64_t w = 0; w < stride && w < total_units; ++w) workers.push_back(start_worker(w));

  const int64_t start_ns = WallNowNs();
  while (!workers.empty()) {
    if (options.time_budget_ns > 0 && WallNowNs() - start_ns > options.time_budget_ns) {
      outcome.time_budget_reached = true;
      for (Worker& worker : workers) {
        kill(worker.pid, SIGKILL);
        waitpid(worker.pid, nullptr, 0);
        close(worker.fd);
      }
      workers.clear();
      break;
    }
    std::vector<pollfd> polls;
    for (const Worker& worker : workers) polls.push_back(pollfd{worker.fd, POLLIN, 0});
    const int ready = poll(polls.data(), polls.size(), 100);
    if (ready < 0 && errno != EINTR) FAULTLINE_CHECK_MSG(false, "poll() failed");
    for (size_t i = 0; i < workers.size(); ++i) {
      if (polls[i].revents == 0) continue;
      Worker& worker = workers[i];
      char chunk[65536];
      const ssize_t n = read(worker.fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        worker.buffer.append(chunk, static_cast<size_t>(n));
        size_t newline;
        while ((newline = worker.buffer.find('\n')) != std::string::npos) {
          const std::string line = worker.buffer.substr(0, newline);
          worker.buffer.erase(0, newline + 1);
          const size_t space = line.find(' ', 2);
          uint64_t unit = 0;
          const bool unit_ok = line.size() > 2 &&
              absl::SimpleAtoi(line.substr(2, space == std::string::npos ? std::string::npos : space - 2), &unit);
          FAULTLINE_CHECK_MSG(unit_ok && unit < total_units, "garbled worker line");
          if (line[0] == 'S') {
            worker.in_progress = unit;
          } else {
            std::optional<reports::SeedResult> result = DecodeResult(line.substr(space + 1));
            FAULTLINE_CHECK_MSG(result.has_value(), "garbled worker result");
            worker.in_progress.reset();
            worker.next_unit = unit + stride;
            record(unit, std::move(*result));
          }
        }
        continue;
      }
      // End of stream: the worker finished or died.
      int status = 0;
      waitpid(worker.pid, &status, 0);
      close(worker.fd);
      const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!clean_exit || worker.in_progress.has_value()) {
        const uint64_t unit = worker.in_progress.value_or(worker.next_unit);
        if (unit < total_units) {
          reports::SeedResult crashed;
          crashed.scenario = scenario_of(unit)->name;
          crashed.seed = seed_of(unit);
          crashed.outcome = "worker crashed";
          crashed.detail = WIFSIGNALED(status)
                               ? absl::StrCat("the worker process died of signal ", WTERMSIG(status),
                                              " (", strsignal(WTERMSIG(status)), ")")
                               : absl::StrCat("the worker process exited with status ",
                                              WEXITSTATUS(status));
          record(unit, std::move(crashed));
          const uint64_t resume = unit + stride;
          if (resume < total_units) {
            workers[i] = start_worker(resume);
            continue;
          }
        }
      }
      workers.erase(workers.begin() + static_cast<long>(i));
      break;  // indexes shifted; poll again
    }
  }

  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [unit, result] : kept) outcome.results.push_back(std::move(result));
  return outcome;
}

}  // namespace faultline::harness
