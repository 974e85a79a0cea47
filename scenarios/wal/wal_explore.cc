// scenarios/wal/wal_explore.cc — see wal_explore.h.
#include "scenarios/wal/wal_explore.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/wal/wal.h"
#include "scenarios/checkers/durability_checker.h"
#include "scenarios/kit/explore_order.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::scenarios {
namespace {

constexpr char kExploreDir[] = "wal";
constexpr uint64_t kMaxRecordsRead = 10'000;  // the log holds kExploreRecords

wal::WalOptions ExploreWalOptions(uint64_t seed) {
  wal::WalOptions options;
  options.segment_size_bytes = 8192;
  options.sector_bytes = 512;
  options.max_record_bytes = 4096;
  options.max_queued_records = 64;
  options.max_queued_bytes = 1 << 16;
  options.max_batch_records = 16;
  options.max_batch_bytes = 1 << 14;
  options.salt_seed = seed;
  return options;
}

// A deterministic mix of the seed and the record's index (splitmix64).
uint64_t Mix(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string Payload(uint64_t seed, uint32_t index) {
  std::string payload(100 + Mix(seed, index) % 2000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>('a' + (index + i) % 26);
  }
  return payload;
}

std::unique_ptr<io::FileSystem> Wrap(const WalScenarioHooks& hooks, io::FileSystem& raw,
                                     const wal::WalOptions& options) {
  return hooks.wrap_file_system ? hooks.wrap_file_system(raw, options) : nullptr;
}

// What the workload left at its armed crash point.
struct Capture {
  bool fired = false;
  std::vector<sim::disk::DiskImage> states;  // in the varied order
  bool complete = false;
  std::optional<DurabilityChecker> model;  // what was issued and acknowledged
  absl::Status workload_error;
};

// Appends kExploreRecords records in pairs, telling `checker`.
void RunWorkload(io::FileSystem& fs, sim::Scheduler& scheduler, const wal::WalOptions& options,
                 uint64_t seed, DurabilityChecker& checker, absl::Status& error) {
  auto log = wal::Wal::Open(fs, scheduler, kExploreDir, options);
  if (!log.ok()) {
    error = absl::InternalError(absl::StrCat("creating the log failed: ", log.status().ToString()));
    return;
  }
  for (uint32_t first = 0; first < kExploreRecords && error.ok(); first += 2) {
    std::vector<wal::AppendResult> pair;
    for (uint32_t i = first; i < std::min(first + 2, kExploreRecords); ++i) {
      const std::string payload = Payload(seed, i);
      absl::StatusOr<wal::AppendResult> appended = (*log)->Append(payload);
      if (!appended.ok()) {
        error = absl::InternalError(absl::StrCat("Append failed: ", appended.status().ToString()));
        return;
      }
      error = checker.Issue(appended->first_sequence, payload);
      if (!error.ok()) return;
      pair.push_back(std::move(*appended));
    }
    for (wal::AppendResult& appended : pair) {
      const absl::StatusOr<uint64_t>& durable = appended.durable.Get();
      error = durable.ok() ? checker.Acknowledge(*durable)
                           : checker.AcknowledgeFailed(appended.first_sequence);
      if (!error.ok()) return;
    }
  }
  (void)(*log)->Close();
}

// The enumerated states at the crash point, plus the garbage one, in the
// varied order.
void CaptureStates(sim::disk::SimDisk& disk, sim::NodeId node, Capture& capture) {
  sim::disk::CrashStates all =
      sim::disk::EnumerateCrashStates(disk, node, {.max_states = kExploreStateBound});
  sim::disk::DiskImage garbage = sim::disk::GarbageCrashState(disk, node);
  const bool garbage_is_new = std::find(all.states.begin(), all.states.end(), garbage) ==
                              all.states.end();
  const auto count = static_cast<uint32_t>(all.states.size());
  for (uint32_t index : kit::VariedCrashStateOrder(count, garbage_is_new)) {
    capture.states.push_back(index < count ? std::move(all.states[index]) : std::move(garbage));
  }
  capture.complete = all.complete;
}

// Runs the workload with a power loss armed at its `point`-th I/O call.
Capture RunToPoint(uint64_t seed, uint32_t point, const WalScenarioHooks& hooks) {
  Capture capture;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = seed});
  const sim::NodeId node = scheduler.AddNode("n1");
  sim::disk::SimDisk disk(scheduler);
  sim::disk::SimFileSystem& raw = disk.ForNode(node);
  const wal::WalOptions options = ExploreWalOptions(seed);
  std::unique_ptr<io::FileSystem> wrapped = Wrap(hooks, raw, options);
  io::FileSystem& fs = wrapped ? *wrapped : raw;
  DurabilityChecker checker(options.initial_sequence);
  sim::disk::CrashArm arm;
  arm.countdown = point;
  arm.label = "explore";
  arm.on_fire = [&](const sim::disk::CrashArm&) {
    capture.fired = true;
    capture.model.emplace(checker);
    CaptureStates(disk, node, capture);
  };
  raw.ArmCrash(std::move(arm));
  absl::Status error;
  scheduler.StartFiberOn(node, "writer",
                         [&] { RunWorkload(fs, scheduler, options, seed, checker, error); });
  const sim::RunResult result = scheduler.Run();
  if (!result.ok()) {
    error = absl::InternalError(absl::StrCat("the workload did not finish: ", result.detail));
  }
  capture.workload_error = error;
  return capture;
}

absl::StatusOr<std::vector<LogRecord>> ReadAll(wal::Wal& log) {
  absl::StatusOr<std::unique_ptr<wal::WalReader>> reader = log.NewReader(log.first_sequence());
  if (!reader.ok()) return reader.status();
  std::vector<LogRecord> records;
  for (uint64_t i = 0; i < kMaxRecordsRead; ++i) {
    absl::StatusOr<std::optional<wal::Record>> next = (*reader)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return records;
    records.push_back(LogRecord{(*next)->sequence, std::move((*next)->payload)});
  }
  return absl::InternalError("the log reads back more records than were ever appended");
}

// Recovers `image` twice (recovery, then a reopen) and checks both.
absl::Status CheckState(uint64_t seed, const WalScenarioHooks& hooks,
                        const sim::disk::DiskImage& image, const DurabilityChecker& model) {
  DurabilityChecker checker = model;
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = seed});
  const sim::NodeId node = scheduler.AddNode("n1");
  sim::disk::SimDisk disk(scheduler);
  disk.LoadImage(node, image);
  const wal::WalOptions options = ExploreWalOptions(seed);
  std::unique_ptr<io::FileSystem> wrapped = Wrap(hooks, disk.ForNode(node), options);
  io::FileSystem& fs = wrapped ? *wrapped : disk.ForNode(node);
  absl::Status verdict;
  scheduler.StartFiberOn(node, "recover", [&] {
    for (int round = 0; round < 2 && verdict.ok(); ++round) {
      auto log = wal::Wal::Open(fs, scheduler, kExploreDir, options);
      if (!log.ok()) {
        verdict = checker.CheckRecoveryError(log.status());
        return;
      }
      absl::StatusOr<std::vector<LogRecord>> records = ReadAll(**log);
      if (!records.ok()) {
        verdict = checker.CheckRecoveryError(records.status());
      } else {
        verdict = round == 0 ? checker.CheckRecovery((*log)->first_sequence(), *records)
                             : checker.CheckReopen((*log)->first_sequence(), *records);
      }
      (void)(*log)->Close();
    }
  });
  const sim::RunResult result = scheduler.Run();
  if (!result.ok()) {
    return absl::InternalError(absl::StrCat("the recovery did not finish: ", result.detail));
  }
  return verdict;
}

std::string PointLine(const ExplorePoint& point) {
  return absl::StrCat("point ", point.point, ": ", point.states_checked, " of ",
                      point.states_total, " states checked",
                      point.enumeration_complete ? "" : " (enumeration bounded)",
                      point.exhausted() ? ", exhausted" : ", not exhausted");
}

}  // namespace

uint32_t ExploreReport::points_exhausted() const {
  return static_cast<uint32_t>(std::count_if(points.begin(), points.end(),
                                             [](const ExplorePoint& p) { return p.exhausted(); }));
}

absl::StatusOr<ExploreReport> ExploreWal(const ExploreOptions& options,
                                         const WalScenarioHooks& hooks) {
  FAULTLINE_CHECK(options.max_points >= 1 && options.max_points <= kExploreMaxPoints);
  FAULTLINE_CHECK(options.states_per_point >= 1);
  ExploreReport report;
  const uint32_t first = options.only_point.value_or(1);
  const uint32_t last = options.only_point.value_or(options.max_points);
  for (uint32_t point = first; point <= last; ++point) {
    if (options.out_of_time && options.out_of_time()) {
      report.stopped_by_time = true;
      break;
    }
    Capture capture = RunToPoint(options.seed, point, hooks);
    if (!capture.workload_error.ok()) {
      report.violation = capture.workload_error.ToString();
      report.violation_point = point;
      report.violation_in_workload = true;
      break;
    }
    if (!capture.fired) {
      if (options.only_point) {
        return absl::InvalidArgumentError(
            absl::StrCat("the workload has fewer than ", point, " I/O operations"));
      }
      report.all_points_reached = true;
      break;
    }
    ExplorePoint explored{.point = point,
                          .states_total = static_cast<uint32_t>(capture.states.size()),
                          .enumeration_complete = capture.complete};
    uint32_t begin = 0;
    uint32_t end = std::min(options.states_per_point, explored.states_total);
    if (options.only_state) {
      if (*options.only_state >= explored.states_total) {
        return absl::InvalidArgumentError(absl::StrCat(
            "point ", point, " has ", explored.states_total, " states (0 to ",
            explored.states_total - 1, ")"));
      }
      begin = *options.only_state;
      end = begin + 1;
    }
    for (uint32_t state = begin; state < end; ++state) {
      if (options.out_of_time && options.out_of_time()) {
        report.stopped_by_time = true;
        break;
      }
      const absl::Status verdict =
          CheckState(options.seed, hooks, capture.states[state], *capture.model);
      ++explored.states_checked;
      ++report.states_checked;
      if (!verdict.ok()) {
        report.violation = std::string(verdict.message());
        report.violation_point = point;
        report.violation_state = state;
        break;
      }
    }
    report.points.push_back(explored);
    if (options.print) options.print(PointLine(explored));
    if (report.violation || report.stopped_by_time) break;
  }
  return report;
}

}  // namespace faultline::scenarios
