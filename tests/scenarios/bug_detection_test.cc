// tests/scenarios/bug_detection_test.cc — proof that the WAL scenarios'
// checkers bite: each deliberately buggy WAL (emulated by a test-only file
// system decorator, buggy_file_systems.h, a re-planted defect,
// buggy_wal_plants.h, or a mistake planted at the API boundary,
// buggy_api_plants.h) must be caught by the default sweep of its scenario
// within kMaxSeeds seeds.
//
// For every bug and every WAL scenario it measures seeds-to-first-detection
// and the detection rate over the first kWindowSeeds seeds. Seeds on which
// the correct WAL itself fails are skipped (and counted), so a detection is
// always the bug's doing. The table goes to stdout; with
// FAULTLINE_BUG_REPORT=<path> it is also written there as Markdown
// (docs/results/bug_detection.md is generated that way from a Release build).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "scenarios/wal/wal_scenarios.h"
#include "spdlog/spdlog.h"
#include "scenarios/journal/journal_scenarios.h"
#include "tests/scenarios/buggy_api_plants.h"
#include "tests/scenarios/buggy_file_systems.h"
#include "tests/scenarios/buggy_journals.h"
#include "tests/scenarios/buggy_sector_wals.h"
#include "tests/scenarios/buggy_wal_plants.h"
#include "tests/scenarios/kernel_profiles.h"

namespace faultline::scenarios {
namespace {

// Every bug must be found within this many seeds of its scenario.
constexpr uint64_t kMaxSeeds = 200;
// The window over which the detection rate is measured.
constexpr uint64_t kWindowSeeds = 200;

const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

// A decorator built from the inner file system alone.
template <typename Decorator>
WalScenarioHooks Wrap() {
  WalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner,
                              const wal::WalOptions&) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<Decorator>(inner);
  };
  return hooks;
}

// A decorator that also reads the WAL's options.
template <typename Decorator>
WalScenarioHooks WrapWithOptions() {
  WalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner,
                              const wal::WalOptions& options) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<Decorator>(inner, options);
  };
  return hooks;
}

// Payload authors who know the salt of the segment their record lands in.
WalScenarioHooks SaltKnownToPayloads() {
  auto salts = std::make_shared<testing::KnownSalts>();
  WalScenarioHooks hooks;
  hooks.wrap_file_system = [salts](io::FileSystem& inner,
                                   const wal::WalOptions&) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<testing::SaltKnownToPayloadsFileSystem>(inner, *salts);
  };
  hooks.payload_salt = [salts](uint64_t sequence) { return salts->SaltFor(sequence); };
  return hooks;
}

// A WAL with a defect at its API boundary (buggy_api_plants.h).
template <typename Plant>
WalScenarioHooks Api() {
  WalScenarioHooks hooks;
  hooks.wrap_wal = [](std::unique_ptr<LogApi> inner,
                      runtime::Executor& executor) -> std::unique_ptr<LogApi> {
    if constexpr (std::is_constructible_v<Plant, std::unique_ptr<LogApi>, runtime::Executor&>) {
      return std::make_unique<Plant>(std::move(inner), executor);
    } else {
      (void)executor;
      return std::make_unique<Plant>(std::move(inner));
    }
  };
  return hooks;
}

WalScenarioHooks CloseHidesCancellation() {
  WalScenarioHooks hooks;
  hooks.close_status = testing::CloseHidesCancellation;
  return hooks;
}

WalScenarioHooks CloseHidesFailure() {
  WalScenarioHooks hooks;
  hooks.close_status = testing::CloseHidesFailure;
  return hooks;
}

WalScenarioHooks PacksFramesOnAnyDevice() {
  WalScenarioHooks hooks;
  hooks.adjust_swarm = testing::PacksFramesOnAnyDevice;
  return hooks;
}

// `hooks` on the device model before the sector profiles.
WalScenarioHooks OnGentleSectors(WalScenarioHooks hooks) {
  std::function<void(WalSwarm&)> adjust = hooks.adjust_swarm;
  hooks.adjust_swarm = [adjust](WalSwarm& swarm) {
    if (adjust) adjust(swarm);
    testing::GentleSectors(swarm);
  };
  return hooks;
}

// A decorator, under a kernel profile forced on (or, with `profile` =
// ForceNone, every profile forced off: the model before the profiles).
template <typename Decorator>
WalScenarioHooks WrapUnder(void (*profile)(kit::DiskSwarm&)) {
  WalScenarioHooks hooks = Wrap<Decorator>();
  hooks.adjust_swarm = [profile](WalSwarm& swarm) { profile(swarm.disk); };
  return hooks;
}

WalScenarioHooks RefusesMaxSizeRecord() {
  WalScenarioHooks hooks;
  hooks.refuse_append = testing::RefusesMaxSizeRecord;
  return hooks;
}

struct Bug {
  std::string name;
  std::string what;
  WalScenarioKind scenario;  // the scenario that must catch it
  WalScenarioHooks hooks;
  // For a re-planted defect: how the plant reproduces it, and how faithfully
  // (for the report; buggy_wal_plants.h has the details). Empty otherwise.
  std::string plant = {};
  // Wrong only on a device profile the gentle model lacks (buggy_sector_wals.h):
  // the report also runs it on that model, where it must pass.
  bool needs_sector_profile = false;
};

std::vector<Bug> Bugs() {
  return {
      {"ack_before_sync", "acknowledge a batch before its sync completed",
       WalScenarioKind::kCrash, Wrap<testing::AckBeforeSyncFileSystem>()},
      {"retry_failed_sync", "retry a failed sync and acknowledge on the retry's OK",
       WalScenarioKind::kFsyncFailure, Wrap<testing::RetryFailedSyncFileSystem>()},
      {"no_torn_tail_truncate", "do not truncate a torn tail (or failed batch) before appending",
       WalScenarioKind::kFsyncFailure, Wrap<testing::NoTruncateFileSystem>()},
      {"rotation_without_dir_sync", "rotate without syncing the directory",
       WalScenarioKind::kCrash, Wrap<testing::NoRotationDirSyncFileSystem>()},
      {"corruption_as_clean_end", "treat mid-log corruption as a clean end of the log",
       WalScenarioKind::kCrash, Wrap<testing::CorruptionAsCleanEndFileSystem>()},
      // The five defects of core/wal found by review, re-planted (buggy_wal_plants.h).
      {"recovery_keeps_dir_unsynced",
       "(defect 1) recovery adopts a segment without making the directory durable",
       WalScenarioKind::kCrash, WrapWithOptions<testing::RecoveryKeepsDirUnsyncedFileSystem>(),
       "the directory sync that ends a recovery does nothing; faithful: the fixed WAL's calls "
       "minus that one"},
      {"reader_refuses_writer_limit",
       "(defect 2) recovery refuses a segment count the writer accepts",
       WalScenarioKind::kCrash, WrapWithOptions<testing::ReaderRefusesWriterLimitFileSystem>(),
       "listing a directory that holds max_segments segments fails; scaled down: the gap "
       "between writer and reader is one segment, reached only by extreme configurations"},
      {"second_open_succeeds",
       "(defect 3) a second Wal opens the directory while the destroyed one's flusher is in a call",
       WalScenarioKind::kCrash, WrapWithOptions<testing::SecondOpenSucceedsFileSystem>(),
       "the directory lock never refuses; half faithful: the flusher's abandonment checks "
       "stay in force, and the lock is what stops a call already in flight"},
      {"predictable_salt",
       "(defect 4) payload authors know the segment's salt: embedded frames verify as the log's own",
       WalScenarioKind::kCrash, SaltKnownToPayloads(),
       "a decorator records the salt of every segment header the WAL writes and the writers "
       "forge their payloads' frames with the active segment's salt (sequences and watermarks "
       "just ahead of their own record); faithful in kind: the WAL's salt derivation is "
       "untouched, the plant only lets payload authors know its result, as every embedded "
       "frame verified before the salt existed. A record that opens a new segment carries "
       "frames salted for the previous one, so fewer torn tails are mistaken for damage "
       "than without any salt"},
      {"close_hides_cancellation",
       "(defect 5) Close() returns OK although the records it flushed were cancelled",
       WalScenarioKind::kCrash, CloseHidesCancellation(),
       "a scenario hook maps the Cancelled that Close() returns to OK; faithful at the "
       "caller's side"},
      {"close_hides_failure",
       "Close() returns OK after a failed sync stopped the Wal and failed its records",
       WalScenarioKind::kFsyncFailure, CloseHidesFailure(),
       "a scenario hook maps the failure that Close() returns after a fail-stop to OK; "
       "faithful at the caller's side"},
      {"retry_sync_on_enospc",
       "retry a sync that failed with ENOSPC at writeback; acknowledge on the retry's OK "
       "(kernel profile sync_enospc forced on)",
       WalScenarioKind::kFsyncFailure,
       WrapUnder<testing::RetrySyncOnNoSpaceFileSystem>(testing::ForceSyncNoSpace)},
      {"retry_failed_write_at_end",
       "retry a write that failed with EIO at the end of the file, as if nothing had landed "
       "(kernel profile failed_write_leaves_prefix forced on)",
       WalScenarioKind::kFsyncFailure,
       WrapUnder<testing::RetryFailedWriteAtEndFileSystem>(testing::ForceWritePrefix)},
      {"refuses_max_size_record", "Append refuses a payload of exactly max_record_bytes",
       WalScenarioKind::kCrash, RefusesMaxSizeRecord(),
       "a scenario hook refuses, with InvalidArgument, a payload of exactly "
       "max_record_bytes before it reaches the WAL; faithful at the API boundary"},
      // Wrong only under the device profiles (buggy_sector_wals.h).
      {"packs_frames_on_any_device",
       "pack batches (no sector alignment) on a device without powersafe overwrite",
       WalScenarioKind::kCrash, PacksFramesOnAnyDevice(),
       "the production WAL with sector_bytes = 0 whatever the device; faithful: the WAL "
       "before sector alignment",
       /*needs_sector_profile=*/true},
      {"gives_up_on_read_errors",
       "recovery cannot come up over a torn tail a crash left unreadable",
       WalScenarioKind::kCrash, Wrap<testing::GivesUpOnReadErrorsFileSystem>(),
       "a decorator repeats a file's first read I/O error on every later read, so the "
       "sector-by-sector re-read finds nothing; faithful in effect: the WAL before the fix "
       "returned the read's EIO from Open",
       /*needs_sector_profile=*/true},
      // Mistakes in group commit, recovery, release and reader paths
      // (buggy_api_plants.h): what the caller of such a WAL would see.
      {"durable_counts_queued", "durable_sequence() counts queued records as durable",
       WalScenarioKind::kCrash, Api<testing::DurableCountsQueued>()},
      {"flush_does_not_wait", "Flush() returns before the sync it asked for",
       WalScenarioKind::kCrash, Api<testing::FlushDoesNotWait>()},
      {"batch_not_atomic", "AppendBatch queues its records one Append at a time",
       WalScenarioKind::kCrash, Api<testing::BatchNotAtomic>()},
      {"batch_future_on_first", "AppendBatch's future resolves to the batch's first sequence",
       WalScenarioKind::kCrash, Api<testing::BatchFutureOnFirst>()},
      {"health_hides_failure", "health() stays OK after a failed sync stopped the Wal",
       WalScenarioKind::kFsyncFailure, Api<testing::HealthHidesFailure>()},
      {"durable_lags_after_open", "after Open, durable_sequence() is one short of the log's end",
       WalScenarioKind::kCrash, Api<testing::DurableLagsAfterOpen>()},
      {"release_off_by_one", "Release(b) also releases a segment ending at record b",
       WalScenarioKind::kRotationRetention, Api<testing::ReleaseOffByOne>()},
      {"reader_skips_after_caught_up",
       "a reader that reported no more records skips the next one to arrive",
       WalScenarioKind::kCrash, Api<testing::ReaderSkipsAfterCaughtUp>()},
      {"reader_seek_off_by_one", "a reader started inside the log starts one record late",
       WalScenarioKind::kCrash, Api<testing::ReaderSeekOffByOne>()},
      {"new_reader_clamps_released",
       "NewReader below first_sequence() starts at first_sequence() instead of NotFound",
       WalScenarioKind::kRotationRetention, Api<testing::NewReaderClampsReleased>()},
      {"release_without_dir_sync", "Release removes segments without a directory sync each",
       WalScenarioKind::kRotationRetention, Wrap<testing::ReleaseWithoutDirSync>()},
      {"recovery_truncate_unsynced",
       "recovery sets the newest segment's size without syncing it",
       WalScenarioKind::kCrash, Wrap<testing::RecoveryTruncateUnsynced>()},
      {"header_sequence_big_endian",
       "writer and reader store the header's first_sequence big-endian, against FORMAT.md",
       WalScenarioKind::kCrash, Wrap<testing::HeaderSequenceBigEndian>()},
      {"recovery_cuts_before_refusing",
       "recovery cuts every segment at its first bad frame, then refuses the damaged log",
       WalScenarioKind::kCrash, Wrap<testing::RecoveryCutsBeforeRefusing>()},
  };
}

const char* ScenarioName(WalScenarioKind kind) {
  switch (kind) {
    case WalScenarioKind::kCrash: return "wal_crash";
    case WalScenarioKind::kFsyncFailure: return "wal_fsync_failure";
    case WalScenarioKind::kRotationRetention: return "wal_rotation_retention";
  }
  return "?";
}

struct Measurement {
  std::optional<uint64_t> first_detection_seed;  // seeds 0.. in order
  uint64_t seeds_to_first_detection = 0;         // seeds run (baseline-passing) up to it
  uint64_t detected_in_window = 0;
  uint64_t baseline_failures = 0;                 // seeds skipped: the correct WAL failed
  std::string first_violation;
};

// Whether the correct WAL passes (scenario, seed): run once, shared by every bug.
bool BaselinePasses(WalScenarioKind kind, uint64_t seed) {
  static std::map<std::pair<WalScenarioKind, uint64_t>, bool> passes;
  const auto key = std::make_pair(kind, seed);
  auto it = passes.find(key);
  if (it == passes.end()) {
    it = passes.emplace(key, RunWalScenario(kind, ScenarioOptions{.seed = seed}).passed()).first;
  }
  return it->second;
}

Measurement Measure(WalScenarioKind kind, const WalScenarioHooks& hooks) {
  Measurement m;
  uint64_t counted = 0;
  for (uint64_t seed = 0; seed < kWindowSeeds; ++seed) {
    const ScenarioOptions options{.seed = seed};
    if (!BaselinePasses(kind, seed)) {
      ++m.baseline_failures;
      continue;
    }
    ++counted;
    const ScenarioResult buggy = RunWalScenario(kind, options, hooks);
    if (buggy.passed()) continue;
    ++m.detected_in_window;
    if (!m.first_detection_seed.has_value()) {
      m.first_detection_seed = seed;
      m.seeds_to_first_detection = counted;
      m.first_violation = !buggy.violation.empty()
                              ? buggy.violation
                              : std::string(sim::OutcomeName(buggy.run.outcome)) + ": " +
                                    buggy.run.detail;
    }
  }
  return m;
}

// Most fsync-failure seeds fail-stop the Wal with records failed, and then
// close it: a Close() that hides the failure must be caught there, not only
// in the rarer seeds that close a Wal while it is being destroyed.
TEST(BugDetectionTest, CloseHidingAFailStopIsCaughtInMostFsyncFailureSeeds) {
  constexpr uint64_t kSeeds = 40;
  uint64_t detected = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    const ScenarioOptions options{.seed = seed};
    ASSERT_TRUE(RunWalScenario(WalScenarioKind::kFsyncFailure, options).passed()) << seed;
    if (!RunWalScenario(WalScenarioKind::kFsyncFailure, options, CloseHidesFailure()).passed()) {
      ++detected;
    }
  }
  EXPECT_GE(detected, kSeeds / 2);
}

// A sealed segment damaged on purpose excuses a DataLoss of the recovery
// that follows it, but not one the final crash caused: in the wal_crash
// seeds that damage a segment, a WAL that acknowledges before its sync must
// be caught (the final recovery is checked before the damage) whenever the
// same seed without the damage catches it (the damage comes after every
// other step, so the twin runs alike up to it; a seed whose crashes lose
// nothing acknowledged cannot catch the bug either way).
TEST(BugDetectionTest, DeliberateDamageDoesNotMaskTheFinalCrashsLosses) {
  int damaged_seeds = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const ScenarioOptions options{.seed = seed};
    const ScenarioResult correct = RunWalScenario(WalScenarioKind::kCrash, options);
    ASSERT_TRUE(correct.passed()) << seed;
    if (correct.faults_injected.count("corrupt_sealed_segment") == 0) continue;
    WalScenarioHooks undamaged = Wrap<testing::AckBeforeSyncFileSystem>();
    undamaged.adjust_swarm = [](WalSwarm& swarm) { swarm.corrupt_sealed_segment = false; };
    if (RunWalScenario(WalScenarioKind::kCrash, options, undamaged).passed()) continue;
    ++damaged_seeds;
    const ScenarioResult buggy = RunWalScenario(WalScenarioKind::kCrash, options,
                                                Wrap<testing::AckBeforeSyncFileSystem>());
    EXPECT_FALSE(buggy.passed()) << "seed " << seed << " passed: the damage excused the bug";
  }
  EXPECT_GE(damaged_seeds, 5);
}

// Bugs that only a kernel profile exposes: the model without the profiles
// passes each over the whole window, the profile catches it.
template <typename Decorator>
void ExpectCaughtOnlyUnder(const char* name, void (*profile)(kit::DiskSwarm&)) {
  uint64_t caught_without = 0;
  uint64_t caught_with = 0;
  for (uint64_t seed = 0; seed < kWindowSeeds; ++seed) {
    const ScenarioOptions options{.seed = seed};
    const WalScenarioKind kind = WalScenarioKind::kFsyncFailure;
    if (!RunWalScenario(kind, options, WrapUnder<Decorator>(testing::ForceNone)).passed()) {
      ++caught_without;
    }
    if (!RunWalScenario(kind, options, WrapUnder<Decorator>(profile)).passed()) ++caught_with;
  }
  std::cout << name << ": caught in " << caught_without << "/" << kWindowSeeds
            << " seeds without the kernel profiles, " << caught_with << " with its profile\n";
  EXPECT_EQ(caught_without, 0u) << name;
  EXPECT_GT(caught_with, 0u) << name;
}

TEST(BugDetectionTest, RetryOnWritebackNoSpaceNeedsTheProfile) {
  ExpectCaughtOnlyUnder<testing::RetrySyncOnNoSpaceFileSystem>("retry_sync_on_enospc",
                                                               testing::ForceSyncNoSpace);
}

TEST(BugDetectionTest, RetryOfAFailedWriteAtTheEndNeedsTheProfile) {
  ExpectCaughtOnlyUnder<testing::RetryFailedWriteAtEndFileSystem>("retry_failed_write_at_end",
                                                                  testing::ForceWritePrefix);
}

TEST(BugDetectionTest, EveryBugIsCaughtWithinTheSweep) {
#ifdef FAULTLINE_SANITIZER_BUILD
  // The whole catalog over its window takes minutes in release and several
  // times CTest's limit under ASan; the sanitizer build runs the smaller
  // BugDetection tests above, the release build this one.
  GTEST_SKIP() << "the full catalog sweep runs in the release build";
#endif
  std::string table =
      "| bug | what the buggy WAL does | scenario | seeds to first detection | first seed | "
      "detected in first " + std::to_string(kWindowSeeds) +
      " seeds | baseline failures skipped |\n|---|---|---|---|---|---|---|\n";
  std::string violations;
  std::string plants;
  std::string gentle_table =
      "| bug | scenario | detected in first " + std::to_string(kWindowSeeds) +
      " seeds on the gentle device model |\n|---|---|---|\n";
  for (const Bug& bug : Bugs()) {
    if (!bug.plant.empty()) absl::StrAppend(&plants, "- ", bug.name, ": ", bug.plant, ".\n");
    bool caught_by_its_scenario = false;
    for (WalScenarioKind kind : {WalScenarioKind::kCrash, WalScenarioKind::kFsyncFailure,
                                 WalScenarioKind::kRotationRetention}) {
      const Measurement m = Measure(kind, bug.hooks);
      const bool designated = kind == bug.scenario;
      if (designated && m.first_detection_seed.has_value() &&
          m.seeds_to_first_detection <= kMaxSeeds) {
        caught_by_its_scenario = true;
      }
      absl::StrAppend(
          &table, "| ", bug.name, " | ", bug.what, " | ", ScenarioName(kind),
          designated ? " (designated)" : "", " | ",
          m.first_detection_seed.has_value() ? std::to_string(m.seeds_to_first_detection)
                                             : std::string("not detected"),
          " | ", m.first_detection_seed.has_value() ? std::to_string(*m.first_detection_seed) : "-",
          " | ", m.detected_in_window, "/", kWindowSeeds - m.baseline_failures, " | ",
          m.baseline_failures, " |\n");
      if (m.first_detection_seed.has_value()) {
        absl::StrAppend(&violations, "- ", bug.name, " in ", ScenarioName(kind), " (seed ",
                        *m.first_detection_seed, "): ", m.first_violation.substr(0, 400), "\n");
      }
    }
    EXPECT_TRUE(caught_by_its_scenario)
        << bug.name << " was not caught by " << ScenarioName(bug.scenario) << " within "
        << kMaxSeeds << " seeds";
    if (bug.needs_sector_profile) {
      // The same seeds on the gentle device model: the bug goes unseen there.
      const Measurement gentle = Measure(bug.scenario, OnGentleSectors(bug.hooks));
      EXPECT_FALSE(gentle.first_detection_seed.has_value())
          << bug.name << " was caught without the sector profiles: " << gentle.first_violation;
      absl::StrAppend(&gentle_table, "| ", bug.name, " | ", ScenarioName(bug.scenario), " | ",
                      gentle.detected_in_window, "/", kWindowSeeds - gentle.baseline_failures,
                      " |\n");
    }
  }
  std::cout << table << "\n" << gentle_table << "\n" << violations;
  if (const char* path = std::getenv("FAULTLINE_BUG_REPORT"); path != nullptr) {
    std::ofstream out(path);
    out << "# Bug detection: seeds to first detection\n\n"
        << "Generated by `tests/scenarios/bug_detection_test` "
        << "(FAULTLINE_BUG_REPORT=docs/results/bug_detection.md); do not edit by hand.\n\n"
        << "Each buggy WAL is the production WAL behind a test-only file-system decorator "
        << "(tests/scenarios/buggy_file_systems.h), with a defect of core/wal re-planted "
        << "through a decorator or a scenario hook (tests/scenarios/buggy_wal_plants.h says "
        << "how faithful each plant is), or with a mistake of its group commit, recovery, "
        << "release or reader path planted at its API boundary or file-system seam "
        << "(tests/scenarios/buggy_api_plants.h). Seeds run in order from 0; a seed on "
        << "which the correct WAL already fails is skipped and counted. \"Seeds to first "
        << "detection\" counts the seeds run up to and including the first one whose run "
        << "the checkers failed. The test requires each bug to be caught by its designated "
        << "scenario within " << kMaxSeeds << " seeds.\n\n"
        << table << "\n## How each re-planted defect is planted, and how faithfully\n\n"
        << plants << "\n## Device profiles: the same bugs on the gentle device model\n\n"
        << "The last bugs are wrong only on devices whose sectors fail as real ones do "
        << "(tests/scenarios/buggy_sector_wals.h): without powersafe overwrite, or with torn "
        << "sectors left unreadable (sim/disk DiskOptions, drawn per seed by the WAL swarm). "
        << "On the device model before those profiles (powersafe overwrite, every torn "
        << "sector readable; the same seeds otherwise) the checkers cannot see them:\n\n"
        << gentle_table << "\n## First violation reported per bug and scenario\n\n"
        << violations;
  }
}

// --- broken journals ----------------------------------------------------------
// The same measurement for the journal scenarios and the broken journals of
// buggy_journals.h. Run after the WAL table (same file, defined later), it
// appends its own section to FAULTLINE_BUG_REPORT.

template <typename Decorator>
JournalScenarioHooks WrapJournal() {
  JournalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<Decorator>(inner);
  };
  return hooks;
}

struct JournalBug {
  std::string name;
  std::string what;
  JournalScenarioKind scenario;  // the scenario that must catch it
  JournalScenarioHooks hooks;
};

std::vector<JournalBug> JournalBugs() {
  return {
      {"rename_before_tmp_sync", "rename the snapshot's tmp file into place without syncing it",
       JournalScenarioKind::kCheckpointCrash, WrapJournal<testing::SkipTmpSyncFileSystem>()},
      {"release_before_dir_sync",
       "release the WAL before the directory sync that makes the snapshot's name durable",
       JournalScenarioKind::kCheckpointCrash,
       WrapJournal<testing::ReleaseBeforeDirSyncFileSystem>()},
      {"trust_unverified_snapshot", "restore a snapshot without verifying its checksums",
       JournalScenarioKind::kCheckpointCrash, WrapJournal<testing::TrustUnverifiedFileSystem>()},
      {"pick_up_tmp_file",
       "recovery adopts a leftover tmp file as the snapshot it was going to become",
       JournalScenarioKind::kCheckpointCrash, WrapJournal<testing::PickUpTmpFileSystem>()},
      {"no_snapshot_fallback",
       "recovery never falls back to an older snapshot and the WAL when the newest is damaged",
       JournalScenarioKind::kCheckpointCrash, WrapJournal<testing::NoFallbackFileSystem>()},
      {"replay_covered_record",
       "recovery replays the last record its snapshot already covers",
       JournalScenarioKind::kCheckpointCrash, WrapJournal<testing::ReplayOverlapFileSystem>()},
  };
}

const char* JournalScenarioName(JournalScenarioKind kind) {
  switch (kind) {
    case JournalScenarioKind::kCheckpointCrash: return "journal_checkpoint_crash";
    case JournalScenarioKind::kFsyncFailure: return "journal_fsync_failure";
  }
  return "?";
}

bool JournalBaselinePasses(JournalScenarioKind kind, uint64_t seed) {
  static std::map<std::pair<JournalScenarioKind, uint64_t>, bool> passes;
  const auto key = std::make_pair(kind, seed);
  auto it = passes.find(key);
  if (it == passes.end()) {
    it = passes.emplace(key, RunJournalScenario(kind, ScenarioOptions{.seed = seed}).passed())
             .first;
  }
  return it->second;
}

Measurement MeasureJournal(const JournalBug& bug, JournalScenarioKind kind) {
  Measurement m;
  uint64_t counted = 0;
  for (uint64_t seed = 0; seed < kWindowSeeds; ++seed) {
    if (!JournalBaselinePasses(kind, seed)) {
      ++m.baseline_failures;
      continue;
    }
    ++counted;
    const ScenarioResult buggy = RunJournalScenario(kind, ScenarioOptions{.seed = seed}, bug.hooks);
    if (buggy.passed()) continue;
    ++m.detected_in_window;
    if (!m.first_detection_seed.has_value()) {
      m.first_detection_seed = seed;
      m.seeds_to_first_detection = counted;
      m.first_violation = !buggy.violation.empty()
                              ? buggy.violation
                              : std::string(sim::OutcomeName(buggy.run.outcome)) + ": " +
                                    buggy.run.detail;
    }
  }
  return m;
}

TEST(BugDetectionTest, EveryBrokenJournalIsCaughtWithinTheSweep) {
  std::string table =
      "| bug | what the broken journal does | scenario | seeds to first detection | "
      "first seed | detected in first " + std::to_string(kWindowSeeds) +
      " seeds | baseline failures skipped |\n|---|---|---|---|---|---|---|\n";
  std::string violations;
  for (const JournalBug& bug : JournalBugs()) {
    bool caught_by_its_scenario = false;
    for (JournalScenarioKind kind :
         {JournalScenarioKind::kCheckpointCrash, JournalScenarioKind::kFsyncFailure}) {
      const Measurement m = MeasureJournal(bug, kind);
      const bool designated = kind == bug.scenario;
      if (designated && m.first_detection_seed.has_value() &&
          m.seeds_to_first_detection <= kMaxSeeds) {
        caught_by_its_scenario = true;
      }
      absl::StrAppend(
          &table, "| ", bug.name, " | ", bug.what, " | ", JournalScenarioName(kind),
          designated ? " (designated)" : "", " | ",
          m.first_detection_seed.has_value() ? std::to_string(m.seeds_to_first_detection)
                                             : std::string("not detected"),
          " | ", m.first_detection_seed.has_value() ? std::to_string(*m.first_detection_seed) : "-",
          " | ", m.detected_in_window, "/", kWindowSeeds - m.baseline_failures, " | ",
          m.baseline_failures, " |\n");
      if (m.first_detection_seed.has_value()) {
        absl::StrAppend(&violations, "- ", bug.name, " in ", JournalScenarioName(kind), " (seed ",
                        *m.first_detection_seed, "): ", m.first_violation.substr(0, 400), "\n");
      }
    }
    EXPECT_TRUE(caught_by_its_scenario)
        << bug.name << " was not caught by " << JournalScenarioName(bug.scenario) << " within "
        << kMaxSeeds << " seeds";
  }
  std::cout << table << "\n" << violations;
  if (const char* path = std::getenv("FAULTLINE_BUG_REPORT"); path != nullptr) {
    std::ofstream out(path, std::ios::app);
    out << "\n# Broken journals: seeds to first detection\n\n"
        << "Each broken journal is the production journal (core/journal) behind a test-only "
        << "file-system decorator (tests/scenarios/buggy_journals.h says what each one does to "
        << "the journal's own calls). Measured as above, over the journal scenarios; each must "
        << "be caught by its designated scenario within " << kMaxSeeds << " seeds.\n\n"
        << table << "\n## First violation reported per broken journal and scenario\n\n"
        << violations;
  }
}

}  // namespace
}  // namespace faultline::scenarios
