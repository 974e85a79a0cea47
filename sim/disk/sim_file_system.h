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
//    namespace ops; SyncDir(d) makes durable those whose (source or target)
//    parent is `d`;
//  * SimDisk::Crash(node) resolves every pending op independently — persisted,
//    dropped or torn at sector granularity (crash_model.h) — from
//    Stream::kDisk, so one seed gives one crash state. The cache becomes a
//    copy of the new durable image.
//
// INCARNATIONS. Every handle (and the file system itself) checks that its node
// is alive and in the incarnation the handle was opened in; otherwise the
// call fails with io::NodeDeadError. The harness calls Scheduler::Crash(node)
// and then SimDisk::Crash(node). If it forgets, the first call of a later
// incarnation resolves the crash (recorded in the trace) before serving.
// When a FaultPlan rule crashes a node, the disk resolves the crash state
// itself, then calls Scheduler::Crash, which throws runtime::FiberKilled in
// the caller if the caller runs on that node; a later SimDisk::Crash(node)
// for the same incarnation is then a no-op.
//
// FSYNC FAILURE (EIO). The file's pending data ops are discarded: marked
// clean without becoming durable, so no later sync saves them. Profile
// kExt4 keeps serving the new bytes from the cache until a crash; kBtrfs
// reverts the cache to the durable bytes at once. Like Linux's errseq, the
// error is reported once per open handle: a handle open at the time of the
// failure gets EIO from its next Sync; a handle opened later does not.
// A failed SyncDir leaves its namespace ops pending (a crash decides them).
//
// OTHER FAULTS (FaultPlan, fault_plan.h): write/read/truncate EIO (nothing is
// changed), ENOSPC against DiskOptions::capacity_bytes (the sum of the
// current sizes of live files) or by rule, latent sector errors
// (AddLatentSectorError: reads touching the sector fail until a write covers
// the whole sector), silent bit flips of durable bytes (FlipDurableBit, or a
// per-crash rate), misdirected writes (the cache is right, the device puts
// the bytes at another sector of the same file: visible after a sync and a
// crash), per-op latency (the calling fiber sleeps in virtual time first),
// and a stuck disk (ops wait until SimDisk::Unstick or the stuck deadline).
//
// FIBERS. Ops may be called outside fibers (tests, benchmarks) as long as
// nothing needs to park: latency and a stuck disk require a fiber.
//
// LIFETIME. SimDisk must outlive the handles and file systems it returns.
// Not thread-safe (nothing in the simulation is).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/file_system.h"
#include "core/io/lock_table.h"
#include "sim/disk/crash_model.h"
#include "sim/disk/fault_plan.h"
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
    std::set<uint64_t> bad_sectors;  // latent sector errors, by sector index
  };

  // Result of the fault decision for one op.
  struct Decision {
    bool eio = false;
    bool no_space = false;
    bool crash_after = false;
    bool tear_on_crash = false;
    bool misdirect = false;
  };

  // Node liveness for fs-level calls; resolves a forgotten crash when a new
  // incarnation shows up.
  absl::Status CheckNode(std::string_view what);
  // Counts the op, applies stuck/latency waits, decides faults, and crashes
  // the node for kCrashBefore (throws FiberKilled or returns NodeDead).
  absl::StatusOr<Decision> BeginOp(DiskOp op, std::string_view what);
  // Crashes the node from inside an op (rule kCrashBefore/kCrashAfter).
  absl::Status CrashFromOp(std::string_view what);
  void WaitWhileStuck();
  void Sleep(int64_t latency_ns);

  // Resolves the crash of the current cache state into the durable image and
  // resets the cache to it.
  void ResolveCrash(const CrashOptions& options, const DiskImage* chosen);
  void ResetCacheFromDurable();
  CrashInput MakeCrashInput() const;

  bool Counted(const CacheInode& inode) const { return inode.linked || inode.open_handles > 0; }
  absl::Status ReserveBytes(uint64_t old_size_bytes, uint64_t new_size_bytes, std::string_view what);
  void ReleaseBytes(uint64_t size_bytes);
  void UnlinkInode(uint64_t inode_id);
  void CloseHandle(uint64_t inode_id);
  // Frees a removed, closed inode once no crash can bring its name back.
  void MaybeFreeInode(uint64_t inode_id);
  void CheckPendingBound() const;

  SimDisk* const disk_;
  const NodeId node_;
  uint64_t incarnation_ = 0;           // the incarnation the cache belongs to
  uint64_t resolved_incarnation_ = 0;  // last incarnation whose crash is resolved
  uint64_t generation_ = 1;            // bumped at each crash: handles of older ones are dead
  uint64_t next_inode_ = 1;
  uint64_t used_bytes_ = 0;            // sum of sizes of counted inodes
  uint64_t last_write_inode_ = 0;      // for CrashOptions::tear_last_write

  DurableState durable_;
  std::map<std::string, uint64_t> files_;  // cache namespace: path → inode
  std::set<std::string> dirs_;
  std::map<uint64_t, CacheInode> inodes_;  // std::map: handles keep pointers (node-stable)
  std::vector<NamespaceOp> namespace_ops_;
  std::set<uint64_t> unreachable_candidates_;
  io::LockTable locks_;  // LockFile; released by ResetCacheFromDurable  // removed + closed, still named somewhere
  size_t pending_data_ops_ = 0;

  // Shared with every handle; false once this file system is destroyed, so a
  // handle that outlives its SimDisk (a fiber unwound by ~Scheduler after
  // the disk is gone) fails cleanly instead of touching freed memory.
  std::shared_ptr<bool> exists_ = std::make_shared<bool>(true);

  std::array<uint64_t, kDiskOpCount> op_counts_{};
  int64_t stuck_until_ns_ = 0;
  std::vector<runtime::Fiber*> stuck_waiters_;
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

  // Resolves `node`'s crash: call after Scheduler::Crash(node). The node must
  // be dead. Idempotent per incarnation (a rule-driven crash already did it).
  void Crash(NodeId node, const CrashOptions& options = {});
  // Like Crash, but installs `state` (e.g. one from EnumerateCrashStates) as
  // the post-crash durable image instead of drawing one.
  void CrashInto(NodeId node, const DiskImage& state);
  // Replaces `node`'s storage with `image`, durable and clean (no pending
  // ops): to start a scenario from a given disk.
  void LoadImage(NodeId node, const DiskImage& image);

  // The durable image (what a crash that persisted nothing pending would
  // leave) and the cache view (what reads see now).
  DiskImage DurableImage(NodeId node);
  DiskImage CacheImage(NodeId node);

  // --- faults driven directly by a test ---------------------------------
  // Ops on `node` wait until virtual time `until_ns` (kNoDeadline: until
  // Unstick).
  void Stick(NodeId node, int64_t until_ns);
  void Unstick(NodeId node);
  // Reads of `path` that touch sector `sector_index` fail with EIO.
  absl::Status AddLatentSectorError(NodeId node, std::string_view path, uint64_t sector_index);
  // Flips one bit of `path`'s durable bytes (and of the cache when the file
  // has no pending data, i.e. the page is clean).
  absl::Status FlipDurableBit(NodeId node, std::string_view path, uint64_t bit_offset);

  // The plan can be changed between (not during) operations.
  FaultPlan& plan() { return plan_; }
  const DiskOptions& options() const { return options_; }
  const FaultStats& stats() const { return stats_; }
  Scheduler& scheduler() { return scheduler_; }

 private:
  friend class SimFileSystem;
  friend class SimFile;
  // Counts and traces an injected fault.
  void NoteFault(FaultKind kind, NodeId node, uint64_t detail, std::string_view text);

  Scheduler& scheduler_;
  const DiskOptions options_;
  FaultPlan plan_;
  FaultStats stats_;
  std::map<NodeId, std::unique_ptr<SimFileSystem>> nodes_;
};

}  // namespace faultline::sim::disk
