// scenarios/wal/wal_world.h — one run of a WAL scenario (internal to
// scenarios/wal): the WAL's node, its workload and the durability checker,
// on a kit::World with the crash-round nemesis.
//
// wal_scenarios.cc holds the recovery checks, the scenario's own faults and
// the registry entries; wal_workload.cc the writers, the checkpointer, the
// in-process reopens (after a fail-stop, and while the flusher is blocked).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/runtime/event.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "scenarios/checkers/durability_checker.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/wal/wal_scenarios.h"
#include "scenarios/wal/wal_swarm.h"

namespace faultline::scenarios::wal_internal {

inline constexpr char kWalDir[] = "wal";
inline constexpr int64_t kMicrosecondNs = 1'000;
// Bounds (TigerBeetle style) on every loop of a run.
inline constexpr int kMaxOpenAttempts = 24;         // reopen attempts while Open keeps failing
inline constexpr int kMaxEpochsPerIncarnation = 8;  // in-process reopens after fail-stops
inline constexpr uint64_t kMaxRecordsRead = 1'000'000;

class WalWorld {
 public:
  WalWorld(WalScenarioKind kind, const ScenarioOptions& options, const WalScenarioHooks& hooks);
  ScenarioResult Run();

 private:
  // One Wal instance of an incarnation and what its records became.
  struct Epoch {
    uint64_t id = 0;
    uint64_t records_failed = 0;  // durability futures that failed
    bool closed = false;          // a closer called Close() on it
    absl::Status close_status;
  };

  void NodeMain(kit::Life life);
  // Opens the WAL, checks what it recovered, reopens it and checks the
  // reopen. nullptr when the run is over (violation, detected corruption)
  // or Open kept failing with I/O errors. `after_abandon_ns`: a Wal was just
  // destroyed with its flusher blocked; Open may be refused (directory in
  // use) until that flusher has exited, and is retried this often.
  std::unique_ptr<wal::Wal> OpenAndCheck(int64_t after_abandon_ns = 0);
  absl::StatusOr<std::vector<LogRecord>> ReadAll(wal::Wal& log);
  // Closes `log`, which `epoch`'s writers used, and checks that Close()
  // owned up to the records that failed (honest close). Returns ok.
  bool CloseAndCheck(wal::Wal& log, const Epoch& epoch);

  // --- the workload (wal_workload.cc) ---
  // Runs one epoch's writers (and checkpointer) on `log`. Returns true when
  // the reopener ended the epoch while the flusher was blocked: the caller
  // then destroys `log` at once and reopens. Writers of such an epoch stay
  // behind in `stale` (join them before the incarnation ends).
  bool RunEpoch(wal::Wal& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale);
  void Writer(wal::Wal* log, Epoch* epoch);
  void Checkpointer(wal::Wal& log, uint64_t epoch_id);
  // Waits a while, slows the node's writes or syncs, lets the flusher park
  // in one, and ends the epoch (see RunEpoch).
  void Reopener(wal::Wal& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale);
  // After a ResourceExhausted fail-stop (max_segments): release what is
  // durable, as the owner must. False when the run is over.
  bool ReleaseAfterExhaustion(wal::Wal& log);
  bool epoch_live(uint64_t id) const { return live_epoch_ == id && !world_.over(); }

  // Counts what the live WAL claims durable (durable_sequence(): futures up
  // to it are resolved) as acknowledged, just before a crash: a writer may
  // not have run since its future resolved, and the claim binds all the same.
  void NoteDurableClaim();
  // Faults stop before the final recovery. In wal_crash seeds that damage a
  // sealed segment, the verifying incarnation checks the final recovery,
  // then damages it and recovers again, which must report DataLoss.
  void BeforeVerify();
  void CorruptSealedSegment();
  // --- durable damage (wal_damage.cc) ---
  // Applies swarm_.damage to the closed log's segments and tells the
  // checker which record it put at risk; false when the log gives the
  // damage no place (too few segments, no vouched record).
  struct DurableSegment {
    std::string path;
    uint64_t first_sequence = 0;
    std::string bytes;
  };
  bool DamageDurable();
  bool FlipNewestSegment(const std::vector<DurableSegment>& segments);
  bool PlantLatentSector(const std::vector<DurableSegment>& segments);
  bool LoseOrTruncateSegment(const std::vector<DurableSegment>& segments, bool lose);
  // The log's segment files as the device holds them, in log order.
  std::vector<DurableSegment> DurableSegments();
  // Misdirected writes reach the device unseen: from the first one on, the
  // log may report DataLoss (checked before every recovery).
  void NoteMisdirectedWrites();
  // The highest sequence a frame on the device vouches for (its own
  // sequence and its durable watermark both reach it).
  uint64_t LastVouchedSequence();
  // Records a checker verdict; a violation ends the run. Returns ok.
  bool Verdict(const absl::Status& status, std::string_view what) {
    return world_.Check(status, what, {"durable", checker_.last_acked()},
                        {"issued", checker_.last_issued()});
  }

  const WalScenarioKind kind_;
  const WalScenarioHooks& hooks_;
  kit::World world_;
  const WalSwarm swarm_;
  sim::disk::SimDisk disk_;
  kit::Node node_;
  DurabilityChecker checker_;
  wal::Wal* live_wal_ = nullptr;  // the WAL the node's writers use, while it exists
  uint64_t live_epoch_ = 0;       // the epoch whose writers may use live_wal_; 0: none
  uint64_t next_epoch_ = 1;
  int running_writers_ = 0;       // of the live epoch
  bool end_epoch_ = false;        // the reopener ended the live epoch
  bool releasing_ = false;        // the checkpointer is inside Release
  bool reopened_while_blocked_ = false;  // this incarnation did (once is enough)
  bool unreadable_planted_ = false;      // a latent sector error: Open's EIO is final
  runtime::Event epoch_event_;    // a writer finished, or the reopener fired
};

}  // namespace faultline::scenarios::wal_internal
