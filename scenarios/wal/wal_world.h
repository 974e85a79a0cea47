// scenarios/wal/wal_world.h — one run of a WAL scenario (internal to
// scenarios/wal): the WAL's node, its workload and the durability checker,
// on a kit::World with the crash-round nemesis.
//
// wal_scenarios.cc holds the recovery checks, the incarnation's life and
// the registry entries; wal_workload.cc the writers (Append, AppendBatch,
// Flush), the checkpointer (Release), the in-process reopens (after a
// fail-stop, and while the flusher is blocked); wal_readers.cc the tailing
// readers, the Close while writers append, the format check and the
// deliberate damage. Every call goes through LogApi (wal_api.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/runtime/event.h"
#include "core/runtime/future.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "scenarios/checkers/api_rules.h"
#include "scenarios/checkers/durability_checker.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/wal/wal_api.h"
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
    bool close_returned = false;  // Close() returned: every later call must fail
    // Durability futures not yet seen resolved, by the call's last sequence
    // (future-order: an earlier one must resolve first).
    std::map<uint64_t, runtime::Future<uint64_t>> pending;
    uint64_t durable_seen = 0;    // durable_sequence() at the last observation
  };

  void NodeMain(kit::Life life);
  // The verifying incarnation's checks of the final recovery (`log`).
  void Verify(std::unique_ptr<LogApi>& log);
  // Opens the WAL, checks what it recovered, reopens it and checks the
  // reopen. nullptr when the run is over (violation, detected corruption)
  // or Open kept failing with I/O errors. `after_abandon_ns`: a Wal was just
  // destroyed with its flusher blocked; Open may be refused (directory in
  // use) until that flusher has exited, and is retried this often.
  std::unique_ptr<LogApi> OpenAndCheck(int64_t after_abandon_ns = 0);
  std::unique_ptr<LogApi> OpenOnce(absl::Status* error);
  absl::StatusOr<std::vector<LogRecord>> ReadAll(LogApi& log);
  // Closes `log`, which `epoch`'s writers used, and checks that Close()
  // owned up to the records that failed (honest close). Returns ok.
  bool CloseAndCheck(LogApi& log, const Epoch& epoch);

  // --- the workload (wal_workload.cc) ---
  // Runs one epoch's writers (and checkpointer, tailing readers, closer) on
  // `log`. Returns true when the reopener ended the epoch while the flusher
  // was blocked: the caller then destroys `log` at once and reopens.
  // Writers of such an epoch stay behind in `stale` (join them before the
  // incarnation ends).
  bool RunEpoch(LogApi& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale);
  void Writer(LogApi* log, Epoch* epoch);
  // One Append or AppendBatch and its durability future; false: stop.
  bool AppendAndWait(LogApi* log, Epoch* epoch, bool batch);
  // Waits for the call's durability future and checks what it and the log
  // say then; false: stop.
  bool AwaitDurable(LogApi* log, Epoch* epoch, wal::AppendResult& appended,
                    std::string_view last_payload);
  // Checks what a resolved future and the log say at that moment.
  bool CheckResolved(LogApi& log, Epoch& epoch, const wal::AppendResult& appended,
                     const absl::StatusOr<uint64_t>& durable);
  void FlushAndCheck(LogApi& log, Epoch& epoch);
  // durable_sequence() never goes back nor passes last_sequence().
  bool ObserveDurable(LogApi& log, Epoch& epoch);
  void Checkpointer(LogApi& log, uint64_t epoch_id);
  // Waits a while, slows the node's writes or syncs, lets the flusher park
  // in one, and ends the epoch (see RunEpoch).
  void Reopener(LogApi& log, Epoch& epoch, std::vector<runtime::JoinHandle>& stale);
  // After a ResourceExhausted fail-stop (max_segments): release what is
  // durable, as the owner must. False when the run is over.
  bool ReleaseAfterExhaustion(LogApi& log);
  bool epoch_live(uint64_t id) const { return live_epoch_ == id && !world_.over(); }

  // --- readers and Close while writers append (wal_readers.cc) ---
  // Tails the log from a drawn start while the writers append: every record
  // comes back in order, durable, as issued.
  void Tailer(LogApi& log, Epoch& epoch);
  // Reads with `reader` from `from` on, checking each record. True: a
  // release overtook it, start a new one; false: done (or the run is over).
  bool Tail(LogApi& log, Epoch& epoch, LogReaderApi& reader, uint64_t from);
  // Closes the log while writers append, then checks that every call fails.
  void Closer(LogApi& log, Epoch& epoch);
  // The recovered log against the independent decoder of the durable image.
  bool CheckFormat();
  // wal_crash seeds that damage a sealed segment: damage it under the open
  // log, read up to the damage, close, and check that Open refuses it,
  // naming it, without touching the disk.
  void DamageAndCheck(std::unique_ptr<LogApi>& log);
  // A reader from the start returns every record before the damaged one,
  // then an error that names the damage. Returns ok.
  bool ReadUpToDamage(LogApi& log, uint64_t damaged_sequence);
  std::map<std::string, std::string> WalFiles(const sim::disk::DiskImage& image) const;

  // Counts what the live WAL claims durable (durable_sequence(): futures up
  // to it are resolved) as acknowledged, just before a crash: a writer may
  // not have run since its future resolved, and the claim binds all the same.
  void NoteDurableClaim();
  // Faults stop before the final recovery.
  void BeforeVerify();
  // --- durable damage (wal_damage.cc) ---
  // Applies swarm_.damage to the closed log's segments and tells the
  // checker which record it put at risk; false when the log gives the
  // damage no place (too few segments, no vouched record).
  struct DurableSegment {
    std::string path;
    uint64_t first_sequence = 0;
    std::string bytes;
  };
  // A frame (record or padding) as the segment holds it.
  struct DurableFrame {
    uint64_t offset = 0;
    uint64_t size_bytes = 0;
    uint64_t sequence = 0;  // kPaddingSequence: padding
    uint64_t watermark = 0;
  };
  bool DamageDurable();
  bool FlipNewestSegment(const std::vector<DurableSegment>& segments);
  bool PlantLatentSector(const std::vector<DurableSegment>& segments);
  bool LoseOrTruncateSegment(const std::vector<DurableSegment>& segments, bool lose);
  // The segment's frames up to the first that does not verify.
  static std::vector<DurableFrame> Frames(const DurableSegment& segment);
  // The header and the padding frame that may follow it.
  static uint64_t HeaderRegionBytes(const DurableSegment& segment);
  // The first record at or after `offset` (or the one after the segment's last).
  static uint64_t RecordAtOrAfter(const DurableSegment& segment,
                                  const std::vector<DurableFrame>& frames, uint64_t offset);
  DeliberateDamage DamageAt(const DurableSegment& segment, uint64_t offset_bytes,
                            uint64_t sequence) const;
  // Where recovery meets segments[index]'s bytes [begin, end) unreadable;
  // nullopt when it cannot tell that from a torn tail or it costs nothing.
  std::optional<DeliberateDamage> UnreadableSectorSite(const std::vector<DurableSegment>& segments,
                                                       size_t index, uint64_t begin_bytes,
                                                       uint64_t end_bytes);
  // Where recovery meets segments[index] cut to `size_bytes`.
  DeliberateDamage TruncationSite(const std::vector<DurableSegment>& segments, size_t index,
                                  uint64_t size_bytes);
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
  ApiRules rules_;
  std::vector<LogRecord> recovered_;  // what the last checked recovery read
  LogApi* live_wal_ = nullptr;    // the WAL the node's writers use, while it exists
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
