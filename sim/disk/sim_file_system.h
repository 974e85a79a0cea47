// sim/disk/sim_file_system.h — the simulated disk: one io::FileSystem per
// node, with a page cache that loses, tears and corrupts un-synced data
// exactly as far as the durability contract in core/io/file_system.h allows.
//
// MODEL. Each node's storage is a durable image plus a volatile cache:
//  * reads see the cache (every write, truncate, create, rename, remove made
//    so far);
//  * WriteAt/Append/Truncate are logged as pending data ops of the file;
//    File::Sync applies them to the durable bytes (data and size);
//  * Open-create, Rename, Remove and CreateDir are logged as pending
//    namespace ops; SyncDir(d) makes durable the ones it covers, in issue
//    order with the earlier ops on the same file or name (a rename across
//    directories once both parents are synced; namespace_ops.h);
//  * a power loss resolves every pending op independently — persisted,
//    dropped or torn at sector granularity (crash_model.h) — from
//    Stream::kDisk, so one seed gives one crash state. The cache becomes a
//    copy of the new durable image.
//
// CRASHES. The harness kills the node (Scheduler::Crash) and then settles
// what the crash did to its storage, with one of:
//  * SimDisk::Crash(node) — a power loss (or kernel panic) of the
//    incarnation that died: pending ops are resolved, the cache is lost.
//  * SimDisk::CrashProcess(node) — only the process died (kill -9, OOM):
//    the page cache stays. After the restart, reads see every un-synced
//    byte and name as before; nothing pending is dropped or torn, and it
//    stays pending: a later Sync/SyncDir makes it durable, a later power
//    loss resolves it under the crash model as usual.
//  * SimDisk::PowerLoss(node) — the machine loses power while the node is
//    down (after a process crash, before or without a restart): resolves
//    what is pending now. Crash() after CrashProcess() for the same
//    incarnation is a no-op (the crash is settled); PowerLoss() is not.
// Either way every handle of the dead incarnation becomes inert: each call
// but Close fails with io::NodeDeadError, Close returns OK. If the harness
// settles nothing, the first call of a later incarnation settles a power
// loss (recorded in the trace) before serving.
// A rule or a crash arm (fault_injector.h) that crashes a node settles the
// crash itself (power loss or process crash, as it says), then calls
// Scheduler::Crash, which throws runtime::FiberKilled in the caller if the
// caller runs on that node; a later SimDisk::Crash(node) for the same
// incarnation is then a no-op.
//
// FSYNC FAILURE (EIO). Writeback failed partway: each of the file's pending
// data ops reached the device or not, as at a crash (persisted, dropped or
// torn; DiskOptions::failed_sync_writes_partway, on by default), and the
// rest is marked clean without becoming durable, so no later sync saves it. Profile
// kExt4 keeps serving the new bytes from the cache until a crash; kBtrfs
// reverts the cache to the durable bytes at once. Like Linux's errseq, the
// error is reported once per open handle: a handle open at the time of the
// failure gets EIO from its next Sync; a handle opened later does not.
// A failed SyncDir leaves its namespace ops pending (a crash decides them).
//
// OTHER FAULTS (FaultPlan, fault_plan.h; decided by fault_injector.h):
// write/read/truncate EIO (nothing is changed), ENOSPC against
// DiskOptions::capacity_bytes (the sum of the current sizes of live files)
// or by rule, latent sector errors (AddLatentSectorError: reads touching the
// sector fail until a write covering the whole sector reaches the device;
// latent_sectors.h), silent bit flips of
// durable bytes (FlipDurableBit, or a per-crash rate), misdirected writes
// (the cache is right, the device puts the bytes at another sector of the
// same file: visible after a sync and a crash), per-op latency (the calling
// fiber sleeps in virtual time first), and a stuck disk (ops wait until
// SimDisk::Unstick or the stuck deadline).
//
// ARGUMENTS. Offsets past INT64_MAX (or offset + size past it) are
// InvalidArgument, as on POSIX; a file may not grow past
// DiskOptions::max_file_bytes (EFBIG). Neither is counted or faulted.
//
// FIBERS. Ops may be called outside fibers (tests, benchmarks) as long as
// nothing needs to park: latency and a stuck disk require a fiber.
//
// LIFETIME. SimDisk must outlive the handles and file systems it returns.
// Not thread-safe (nothing in the simulation is).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/errors.h"
#include "core/io/file_system.h"
#include "core/io/lock_table.h"
#include "sim/disk/crash_model.h"
#include "sim/disk/fault_injector.h"
#include "sim/disk/fault_plan.h"
#include "sim/disk/latent_sectors.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {

enum class FsyncFailureProfile : uint8_t {
  kExt4 = 0,   // ext4/xfs: after a failed sync the cache keeps the new bytes
  kBtrfs = 1,  // btrfs: the cache reverts to the durable bytes
};

struct DiskOptions {
  uint32_t atomic_unit_bytes = 512;  // 512 or 4096
  uint64_t capacity_bytes = 0;       // 0 = unlimited; else ENOSPC past it (per node)
  FsyncFailureProfile fsync_profile = FsyncFailureProfile::kExt4;
  // Bounds (TigerBeetle style): a node holding more pending ops than this is
  // a bug in the workload (it never syncs); checked.
  size_t max_pending_ops_per_node = 1'000'000;
  // The largest file (the disk lives in memory): growing past it is EFBIG.
  uint64_t max_file_bytes = uint64_t{1} << 30;
  // A failed sync's writeback may have reached the device partway: each of
  // the file's pending data ops is persisted, dropped or torn as at a crash
  // (CrashRates) before the rest is marked clean. Off: none of it persists
  // (never durable: gentler than real writeback errors, for tests that
  // pin that one outcome).
  bool failed_sync_writes_partway = true;
};

// Extra instructions for one crash resolution.
struct CrashOptions {
  bool tear_last_write = false;  // the newest pending write (any file) is torn
};

class SimDisk;
class SimFile;

// One node's file system. Get it from SimDisk::ForNode.
class SimFileSystem final : public io::FileSystem {
 public:
  SimFileSystem(SimDisk* disk, NodeId node);
  ~SimFileSystem() override;
  SimFileSystem(const SimFileSystem&) = delete;
  SimFileSystem& operator=(const SimFileSystem&) = delete;

  // --- io::FileSystem (contracts in core/io/file_system.h) ---------------
  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path, io::OpenMode mode) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view path) override;
  absl::Status CreateDir(std::string_view path) override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override;
  absl::Status SyncDir(std::string_view dir) override;
  absl::StatusOr<bool> Exists(std::string_view path) override;
  // In memory, per node; a crash of the node releases every lock.
  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override;

  NodeId node() const { return node_; }
  // Pending (not durable) ops: namespace ops plus data ops of every file.
  size_t pending_op_count() const;

  // --- crash at an I/O operation, relative to now (fault_injector.h) -----
  // Replaces any arm. The arm counts this node's calls from now on, in
  // every incarnation, until it fires or is disarmed; when it fires it
  // disarms, calls on_fire, settles the crash (arm.kind), and kills the
  // node with arm.label as the reason.
  void ArmCrash(CrashArm arm) { injector_.Arm(std::move(arm)); }
  void DisarmCrash() { injector_.Disarm(); }
  bool crash_armed() const { return injector_.armed(); }

 private:
  friend class SimDisk;
  friend class SimFile;
  friend class CrashEnumeratorAccess;

  struct CacheInode {
    std::string data;           // what reads see; size = data.size()
    PendingData pending;        // not yet durable
    uint32_t open_handles = 0;
    bool linked = true;         // has a name in the cache namespace
    uint64_t error_seq = 0;     // bumped by each failed sync (errseq)
    LatentSectors latent;       // latent sector errors (physical: survive crashes)
  };
  using Decision = FaultInjector::Decision;

  // The node's incarnation and the cache generation an op started under: a
  // parked op whose node crashed since must not act (nor fire a rule).
  struct OpTicket {
    uint64_t incarnation = 0;
    uint64_t generation = 0;
  };

  // Node liveness for fs-level calls; settles a forgotten crash when a new
  // incarnation shows up.
  absl::Status CheckNode(std::string_view what);
  // Records one operation of the code under test as a TraceKind::kIo event
  // ("write wal/7.wal -> ok" with off= and len=). The hash folds `op`, `file_key` (the inode, or
  // a hash of the paths), the fields and the result code; the text is built
  // only when the trace is kept, so sweeps pay no formatting.
  void TraceIo(std::string_view op, std::string_view file, uint64_t file_key, TraceField a,
               TraceField b, const absl::Status& result);
  OpTicket CurrentTicket() const;
  bool TicketLive(const OpTicket& ticket) const;
  // Counts the op, applies stuck/latency waits, checks that `ticket` is
  // still live, settles a kCrashBefore, and draws the op's faults.
  absl::StatusOr<Decision> BeginOp(DiskOp op, std::string_view what, const OpTicket& ticket);
  // Crashes the node from inside an op (a rule or the arm).
  absl::Status CrashFromOp(CrashKind kind, std::string_view reason, std::string_view what,
                           const CrashOptions& options = {});
  // Runs `body` as one call of class `ops` for the crash arm; when an arm
  // with mid_write fires before the call, `mid_write(arm)` runs first.
  struct NoMidWrite {
    void operator()(const CrashArm&) const {}
  };
  template <typename Body, typename MidWrite = NoMidWrite>
  auto Armed(ArmedOps ops, std::string_view what, Body&& body, MidWrite&& mid_write = {})
      -> decltype(body());
  absl::Status FireArm(const CrashArm& arm, std::string_view what);

  // --- the bodies of the io::FileSystem calls -------------------------------
  absl::StatusOr<std::unique_ptr<io::File>> DoOpen(const std::string& key, io::OpenMode mode,
                                                   const std::string& what);
  absl::Status DoRename(const std::string& from, const std::string& to, const std::string& what);
  absl::Status DoRemove(const std::string& key, const std::string& what);
  absl::Status DoCreateDir(const std::string& key, const std::string& what);
  absl::Status DoSyncDir(const std::string& key, const std::string& what);
  absl::StatusOr<std::vector<std::string>> DoList(const std::string& key, const std::string& what);

  // --- crashes ---------------------------------------------------------------
  // Brings incarnation_ up to the scheduler's, settling a forgotten crash.
  void CatchUpIncarnation();
  // Power loss: resolves the pending ops into the durable image (or installs
  // `chosen`) and resets the cache to it.
  void SettlePowerLoss(const CrashOptions& options, const DiskImage* chosen);
  // Process crash: handles die, the cache and its pending ops stay.
  void SettleProcessCrash();
  void ResetCacheFromDurable();
  CrashInput MakeCrashInput() const;
  void MarkNewestWriteTorn();

  // --- space and inode lifetime --------------------------------------------
  bool Counted(const CacheInode& inode) const { return inode.linked || inode.open_handles > 0; }
  absl::Status ReserveBytes(uint64_t old_size_bytes, uint64_t new_size_bytes, std::string_view what);
  void ReleaseBytes(uint64_t size_bytes);
  void UnlinkInode(uint64_t inode_id);
  void CloseHandle(uint64_t inode_id);
  // Frees a removed, closed inode once no crash can bring its name back.
  void MaybeFreeInode(uint64_t inode_id);
  void LogNamespaceOp(NamespaceOp op);
  void RecountNamespaceRefs();
  void CheckPendingBound() const;

  SimDisk* const disk_;
  const NodeId node_;
  FaultInjector injector_;
  uint64_t incarnation_ = 0;            // the incarnation the cache belongs to
  uint64_t settled_incarnation_ = 0;    // last incarnation whose crash is settled
  uint64_t generation_ = 1;             // bumped at each crash: handles of older ones are dead
  uint64_t next_inode_ = 1;
  uint64_t next_write_seq_ = 1;
  uint64_t used_bytes_ = 0;             // sum of sizes of counted inodes

  DurableState durable_;
  std::map<std::string, uint64_t> files_;  // cache namespace: path → inode
  std::set<std::string> dirs_;
  std::map<uint64_t, CacheInode> inodes_;  // std::map: handles keep pointers (node-stable)
  std::vector<NamespaceOp> namespace_ops_;
  std::map<uint64_t, uint32_t> namespace_refs_;  // inode → pending namespace ops naming it
  std::set<uint64_t> unreachable_candidates_;    // removed + closed, still named somewhere
  io::LockTable locks_;  // LockFile; every crash of the node releases them all
  size_t pending_data_ops_ = 0;

  // Shared with every handle; false once this file system is destroyed, so a
  // handle that outlives its SimDisk (a fiber unwound by ~Scheduler after
  // the disk is gone) fails cleanly instead of touching freed memory.
  std::shared_ptr<bool> exists_ = std::make_shared<bool>(true);
};

// The simulated disks of every node, their fault plan and their stats.
class SimDisk {
 public:
  SimDisk(Scheduler& scheduler, DiskOptions options = {}, FaultPlan plan = {});
  ~SimDisk();
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // The file system of `node` (created empty on first use).
  SimFileSystem& ForNode(NodeId node);

  // --- settling a crash (see CRASHES above); the node must be dead --------
  // A power loss of the incarnation that died. Idempotent per incarnation
  // (a no-op when a rule, an arm or CrashProcess settled it already).
  void Crash(NodeId node, const CrashOptions& options = {});
  // A process crash of the incarnation that died: the page cache survives.
  // A no-op when the incarnation's crash is already settled.
  void CrashProcess(NodeId node);
  // The machine loses power now, with the node down: resolves every pending
  // op (and settles the incarnation's crash if nothing did).
  void PowerLoss(NodeId node, const CrashOptions& options = {});
  // Like Crash, but installs `state` (e.g. one from EnumerateCrashStates) as
  // the post-crash durable image instead of drawing one.
  void CrashInto(NodeId node, const DiskImage& state);
  // Replaces `node`'s storage with `image`, durable and clean (no pending
  // ops): to start a scenario from a given disk.
  void LoadImage(NodeId node, const DiskImage& image);

  // The durable image (what a crash that persisted nothing pending would
  // leave: without files and directories whose parent is not durable) and
  // the cache view (what reads see now).
  DiskImage DurableImage(NodeId node);
  DiskImage CacheImage(NodeId node);

  // --- faults driven directly by a test ---------------------------------
  // Ops on `node` wait until virtual time `until_ns` (kNoDeadline: until
  // Unstick).
  void Stick(NodeId node, int64_t until_ns);
  void Unstick(NodeId node);
  // Reads of `path` that touch sector `sector_index` fail with EIO.
  absl::Status AddLatentSectorError(NodeId node, std::string_view path, uint64_t sector_index);
  // Flips one bit of `path`'s durable bytes, and of the cache where the
  // cache shows the durable byte (a clean page is re-read sooner or later).
  absl::Status FlipDurableBit(NodeId node, std::string_view path, uint64_t bit_offset);
  // Damage to a file after it was durable, as a broken disk or an operator's
  // mistake does: the file is gone from the device (LoseDurableFile) or cut
  // to `size_bytes` (TruncateDurableFile, no longer than it is), and the
  // cache shows it at once. The file must be settled: nothing pending on the
  // node's namespace or on the file, and no handle open on it (close it
  // first); FailedPrecondition otherwise, NotFound if it is not durable.
  absl::Status LoseDurableFile(NodeId node, std::string_view path);
  absl::Status TruncateDurableFile(NodeId node, std::string_view path, uint64_t size_bytes);

  // The plan can be changed between (not during) operations.
  FaultPlan& plan() { return plan_; }
  const DiskOptions& options() const { return options_; }
  const FaultStats& stats() const { return recorder_.stats(); }
  Scheduler& scheduler() { return scheduler_; }

 private:
  friend class SimFileSystem;
  friend class SimFile;
  // The node's file system, with its incarnation caught up; checks it is dead.
  SimFileSystem& DeadNode(NodeId node);
  // The durable inode of `path` on `fs`, which LoseDurableFile and
  // TruncateDurableFile may damage (see there), or why not.
  absl::StatusOr<uint64_t> SettledDurableInode(SimFileSystem& fs, std::string_view path);

  Scheduler& scheduler_;
  const DiskOptions options_;
  FaultPlan plan_;
  FaultRecorder recorder_;
  std::map<NodeId, std::unique_ptr<SimFileSystem>> nodes_;
};

template <typename Body, typename MidWrite>
auto SimFileSystem::Armed(ArmedOps ops, std::string_view what, Body&& body, MidWrite&& mid_write)
    -> decltype(body()) {
  std::optional<CrashArm> fired = injector_.CountForArm(ops);
  if (!fired.has_value()) return body();
  const OpTicket ticket = CurrentTicket();
  if (!fired->after) {
    if (fired->mid_write) {
      mid_write(*fired);
      if (!TicketLive(ticket)) return io::NodeDeadError(what);  // it crashed the node itself
    }
    return FireArm(*fired, what);
  }
  auto result = body();
  if (!TicketLive(ticket)) return result;  // the node died meanwhile: nothing left to crash
  return FireArm(*fired, what);
}

}  // namespace faultline::sim::disk
