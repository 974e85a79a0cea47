// scenarios/wal/wal_scenarios.h — the WAL under crashes and storage faults:
// "wal_crash", "wal_fsync_failure" and "wal_rotation_retention".
//
// One node runs the production WAL (core/wal) on the simulated disk
// (sim/disk). Writer fibers append records of random sizes (in some seeds
// adversarial: embedded frames, all zeros, all 0xFF, maximum size) with
// Append and AppendBatch, sometimes Flush, and wait for their durability
// futures; readers tail the log meanwhile, a checkpointer releases, and in
// some seeds a fiber closes the Wal while writers append (every promise of
// wal.h is checked when it must hold: scenarios/README.md); a nemesis crashes the node — a power loss,
// a process crash that keeps the page cache, or a process crash whose cache
// a later power loss takes — at seeded moments: at a random virtual time, in
// the middle of a group commit, of a rotation (directory sync), of a write,
// or of a recovery — and restarts it. In some seeds an incarnation destroys
// its Wal while the flusher is parked in a slow write or sync and reopens
// the directory at once (a fiber may be waiting in Close() meanwhile). Every incarnation recovers the WAL, reads the
// whole log back, hands it to the DurabilityChecker, reopens the WAL and
// checks that the second recovery agrees. A run ends with a crash and a
// final verifying recovery.
//
//  wal_crash               crashes only (plus, in some seeds, a deliberate
//                          bit flip in a sealed segment before the final
//                          recovery, which must be reported as DataLoss);
//  wal_fsync_failure       syncs (and some dir syncs and writes) fail with
//                          EIO by rule or rate, under the ext4 or btrfs
//                          page-cache profile: the WAL must fail-stop, and the
//                          node reopens it in process; crashes too;
//  wal_rotation_retention  a checkpointer fiber releases segments below a
//                          moving bound while the node crashes.
//
// SWARM. Per seed, Stream::kSwarm decides which crash moments and which
// crash-model outcomes (torn sectors, garbage, sizes without data, dropped
// namespace ops), latencies, fault kinds and the kernel profile
// (kit::DrawKernelProfile) are enabled and at what rates,
// and the WAL's segment and batch sizes (in one seed in four at the limits
// the WAL accepts), so rare combinations get explored. Crash timing comes
// from Stream::kCrash, the workload (and the WAL's salt seed) from
// kWorkload, the disk's decisions from kDisk.
//
// Written on the scenario kit (scenarios/kit): kit::World, kit::Node and the
// crash-round nemesis kit::RunCrashRounds; wal_swarm.h draws the swarm.
//
// COVERAGE. ScenarioResult::faults_injected counts every fault kind the disk
// injected (FaultStats) plus crashes by moment ("crash_mid_commit", ...).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "core/io/file_system.h"
#include "core/runtime/executor.h"
#include "core/wal/wal.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/scenario.h"
#include "scenarios/wal/wal_api.h"

namespace faultline::scenarios {

enum class WalScenarioKind : uint8_t { kCrash, kFsyncFailure, kRotationRetention };

struct WalSwarm;  // wal_swarm.h

// Test seams. The defaults run the production WAL on the plain simulated
// disk.
struct WalScenarioHooks {
  // Called once per WAL instance opened, with the node's file system and the
  // options the WAL is opened with; the WAL then uses what it returns. The
  // result must forward to `inner`, which outlives it. Tests pass decorators
  // that emulate buggy WALs (tests/scenarios/buggy_file_systems.h); never
  // used in the registry.
  std::function<std::unique_ptr<io::FileSystem>(io::FileSystem& inner,
                                                const wal::WalOptions& options)>
      wrap_file_system;
  // The salt of the segment a record expected to get `sequence` lands in,
  // as payload authors know it (a WAL whose salt payload authors know; a
  // test learns the salts the WAL writes through wrap_file_system). Writers
  // then forge "this log's" frames with it (wal_payloads.h); nullopt, or
  // unset: they guess, as in the registry's runs. Called once per payload,
  // without drawing from any stream (a run's draws do not depend on it).
  std::function<std::optional<uint32_t>(uint64_t sequence)> payload_salt;
  // Makes Append refuse a payload it returns true for, with InvalidArgument,
  // without calling the WAL (a WAL whose Append rejects valid records).
  std::function<bool(std::string_view payload, const wal::WalOptions& options)> refuse_append;
  // Rewrites what Close() returned before the workload sees it (a WAL whose
  // Close misreports).
  std::function<absl::Status(absl::Status)> close_status;
  // Rewrites the seed's swarm after it was drawn (every draw already made,
  // so the streams are unchanged): a WAL misconfigured for its device, or
  // a gentler device model to compare against.
  std::function<void(WalSwarm& swarm)> adjust_swarm;
  // Called once per WAL instance opened, with the production WAL behind the
  // scenarios' API seam (wal_api.h); the workload then makes every call
  // through what it returns, which owns `inner` (a WAL with a defect at its
  // API boundary: tests/scenarios/buggy_wal_plants.h).
  std::function<std::unique_ptr<LogApi>(std::unique_ptr<LogApi> inner,
                                        runtime::Executor& executor)>
      wrap_wal;
};

// Runs one seed of the scenario of `kind`.
ScenarioResult RunWalScenario(WalScenarioKind kind, const ScenarioOptions& options,
                              const WalScenarioHooks& hooks = {});

Scenario WalCrashScenario();
Scenario WalFsyncFailureScenario();
Scenario WalRotationRetentionScenario();

}  // namespace faultline::scenarios
