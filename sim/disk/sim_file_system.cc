// sim/disk/sim_file_system.cc — one node's simulated file system: the cache
// namespace, the namespace log, crashes of both kinds, space and inode
// lifetime (see sim_file_system.h).
#include "sim/disk/sim_file_system.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "sim/disk/crash_choices.h"
#include "sim/disk/sim_file.h"

namespace faultline::sim::disk {
namespace {

// An open event's mode field, printed by name.
std::string_view OpenModeValueName(uint64_t mode) {
  switch (static_cast<io::OpenMode>(mode)) {
    case io::OpenMode::kReadWrite: return "read_write";
    case io::OpenMode::kCreate: return "create";
    case io::OpenMode::kCreateExclusive: return "create_exclusive";
    case io::OpenMode::kCreateTruncate: return "create_truncate";
  }
  return "?";
}

}  // namespace

SimFileSystem::SimFileSystem(SimDisk* disk, NodeId node)
    : disk_(disk),
      node_(node),
      injector_(disk->scheduler_, disk->plan_, disk->recorder_, node),
      incarnation_(disk->scheduler_.Incarnation(node)) {}

SimFileSystem::~SimFileSystem() { *exists_ = false; }

size_t SimFileSystem::pending_op_count() const {
  return namespace_ops_.size() + pending_data_ops_;
}

void SimFileSystem::CheckPendingBound() const {
  FAULTLINE_CHECK_MSG(pending_op_count() <= disk_->options_.max_pending_ops_per_node,
                      "too many pending (never synced) disk operations on one node");
}

// --- liveness, op start, injected crashes -----------------------------------

void SimFileSystem::CatchUpIncarnation() {
  const uint64_t current = disk_->scheduler_.Incarnation(node_);
  if (current == incarnation_) return;
  if (settled_incarnation_ != incarnation_) {
    // The harness restarted the node without settling its crash: a power loss.
    disk_->scheduler_.Record(TraceKind::kDisk, {"node", node_}, {"incarnation", incarnation_},
                             "crash resolved on restart");
    SettlePowerLoss(CrashOptions{}, nullptr);
  }
  incarnation_ = current;
}

void SimFileSystem::TraceIo(std::string_view op, std::string_view file, uint64_t file_key,
                            TraceField a, TraceField b, const absl::Status& result) {
  const uint64_t key = Trace::Fold(Trace::Fold(Trace::HashBytes(op), file_key),
                                   static_cast<uint64_t>(result.code()));
  disk_->scheduler_.RecordLazyAt(node_, TraceKind::kIo, a, b, key, [&] {
    return absl::StrCat(AsAbsl(op), " ", file.empty() ? "." : AsAbsl(file), " -> ",
                        result.ok() ? "ok" : absl::StatusCodeToString(result.code()));
  });
}

absl::Status SimFileSystem::CheckNode(std::string_view what) {
  if (!disk_->scheduler_.IsAlive(node_)) return io::NodeDeadError(what);
  CatchUpIncarnation();
  return absl::OkStatus();
}

SimFileSystem::OpTicket SimFileSystem::CurrentTicket() const {
  return {disk_->scheduler_.Incarnation(node_), generation_};
}

bool SimFileSystem::TicketLive(const OpTicket& ticket) const {
  const Scheduler& scheduler = disk_->scheduler_;
  return scheduler.IsAlive(node_) && scheduler.Incarnation(node_) == ticket.incarnation &&
         generation_ == ticket.generation;
}

absl::StatusOr<SimFileSystem::Decision> SimFileSystem::BeginOp(DiskOp op, std::string_view what,
                                                               const OpTicket& ticket) {
  // A read-only file system refuses without reaching the device.
  FAULTLINE_RETURN_IF_ERROR(RefuseIfReadOnly(op, what));
  Decision decision = injector_.Begin(op, what);
  // The op may have parked across its node's crash (a harness fiber on
  // another node): it is dead and must not act in a later incarnation.
  if (!TicketLive(ticket)) return io::NodeDeadError(what);
  // The file system went read-only while the op waited on the device (a
  // failure elsewhere aborted the journal): it fails like one begun later,
  // and a sync cannot report data durable that the remount dropped.
  FAULTLINE_RETURN_IF_ERROR(RefuseIfReadOnly(op, what));
  if (decision.crash_before) {
    FAULTLINE_RETURN_IF_ERROR(CrashFromOp(decision.crash_kind, "disk fault plan", what));
  }
  injector_.DrawFaults(op, decision, what);
  return decision;
}

absl::Status SimFileSystem::CrashFromOp(CrashKind kind, std::string_view reason,
                                        std::string_view what, const CrashOptions& options) {
  disk_->recorder_.Note(FaultKind::kInjectedCrash, node_, {"incarnation", incarnation_},
                        absl::StrCat("fault plan crashes the node at ", AsAbsl(what),
                                     kind == CrashKind::kProcess ? " (process crash)" : ""));
  // Settle while the cache is intact; then kill the node (throws
  // FiberKilled into the caller when it is one of the node's fibers).
  if (kind == CrashKind::kProcess) {
    SettleProcessCrash();
  } else {
    SettlePowerLoss(options, nullptr);
  }
  disk_->scheduler_.Crash(node_, reason);
  return io::NodeDeadError(what);
}

absl::Status SimFileSystem::FireArm(const CrashArm& arm, std::string_view what) {
  disk_->scheduler_.Record(TraceKind::kDisk, {"node", node_}, {"ops", static_cast<uint64_t>(arm.ops)},
                           absl::StrCat("crash arm fires: ", arm.label));
  const OpTicket ticket = CurrentTicket();
  if (arm.on_fire) arm.on_fire(arm);
  // on_fire must not crash the node; if it did (another arm fired inside
  // it), that crash is settled already: settling a second one would turn a
  // process crash into a power loss after the fact.
  if (!TicketLive(ticket)) return io::NodeDeadError(what);
  return CrashFromOp(arm.kind, arm.label, what,
                     CrashOptions{.tear_last_write = arm.tear_last_write});
}

// --- crashes ------------------------------------------------------------------

CrashInput SimFileSystem::MakeCrashInput() const {
  CrashInput input;
  input.durable = &durable_;
  input.namespace_ops = &namespace_ops_;
  input.atomic_unit_bytes = disk_->options_.atomic_unit_bytes;
  input.sectors = SectorModel{.physical_bytes = disk_->options_.physical_sector_bytes,
                              .powersafe_overwrite = disk_->options_.powersafe_overwrite,
                              .torn_sectors_unreadable = disk_->options_.torn_sectors_unreadable,
                              .forced_tear_may_hole = disk_->options_.forced_tear_may_hole};
  input.names = &files_;
  for (const auto& [id, inode] : inodes_) {
    if (!inode.pending.empty()) input.data.emplace_back(id, &inode.pending);
  }
  return input;
}

void SimFileSystem::MarkNewestWriteTorn() {
  DataOp* newest = nullptr;
  for (auto& [id, inode] : inodes_) {
    for (DataOp& op : inode.pending.ops) {
      if (op.kind == DataOp::Kind::kWrite && (newest == nullptr || op.seq > newest->seq)) newest = &op;
    }
  }
  if (newest != nullptr) newest->tear_on_crash = true;
}

void SimFileSystem::SettlePowerLoss(const CrashOptions& options, const DiskImage* chosen) {
  Scheduler& scheduler = disk_->scheduler_;
  std::map<uint64_t, std::vector<uint64_t>> unreadable;  // inode -> logical sectors
  if (chosen != nullptr) {
    durable_ = DurableState::FromImage(*chosen, next_inode_);
    next_inode_ += chosen->files.size();
    scheduler.Record(TraceKind::kDisk, {"node", node_}, {"files", chosen->files.size()},
                     "crash state installed");
  } else {
    if (options.tear_last_write) MarkNewestWriteTorn();
    scheduler.Record(TraceKind::kDisk, {"node", node_}, {"pending_ops", pending_op_count()},
                     "crash resolution");
    durable_ = DrawCrashState(scheduler, disk_->plan_, disk_->recorder_, node_, MakeCrashInput(),
                              &unreadable);
  }
  settled_incarnation_ = incarnation_;
  ResetCacheFromDurable();
  PlantUnreadableSectors(unreadable);
}

void SimFileSystem::PlantUnreadableSectors(
    const std::map<uint64_t, std::vector<uint64_t>>& unreadable) {
  const uint32_t unit_bytes = disk_->options_.atomic_unit_bytes;
  for (const auto& [id, sectors] : unreadable) {
    auto inode = inodes_.find(id);
    if (inode == inodes_.end()) continue;  // the file did not survive the crash
    for (uint64_t sector : sectors) {
      if (sector * unit_bytes >= inode->second.data.size()) continue;  // past the durable size
      inode->second.latent.Add(sector);
      disk_->recorder_.Note(FaultKind::kUnreadableTornSector, node_, {"sector", sector},
                            "crash: torn sector left unreadable");
    }
  }
}

void SimFileSystem::SettleProcessCrash() {
  disk_->scheduler_.Record(TraceKind::kDisk, {"node", node_}, {"pending_ops", pending_op_count()},
                           "process crash: the page cache stays");
  settled_incarnation_ = incarnation_;
  ++generation_;  // every handle of the dead process is inert
  locks_.ReleaseAll();  // their holders died with the process
  std::vector<uint64_t> closed;
  for (auto& [id, inode] : inodes_) {
    if (inode.open_handles == 0) continue;
    inode.open_handles = 0;
    if (!inode.linked) closed.push_back(id);
  }
  for (uint64_t id : closed) {
    ReleaseBytes(inodes_.at(id).data.size());
    MaybeFreeInode(id);
  }
}

void SimFileSystem::ResetCacheFromDurable() {
  // Latent sector errors are physical: they survive a crash (inode ids are
  // kept across a crash; an installed image has fresh ids and none), except
  // where a rewrite the crash persisted remapped them.
  std::map<uint64_t, LatentSectors> latent;
  for (auto& [id, inode] : inodes_) {
    if (inode.latent.empty()) continue;
    auto durable = durable_.inodes.find(id);
    inode.latent.PowerLoss(inode.data,
                           durable == durable_.inodes.end() ? std::string_view() : durable->second,
                           disk_->options_.atomic_unit_bytes);
    latent.emplace(id, std::move(inode.latent));
  }
  inodes_.clear();
  unreachable_candidates_.clear();
  files_ = durable_.files;
  dirs_ = durable_.dirs;
  namespace_ops_.clear();
  namespace_refs_.clear();
  pending_data_ops_ = 0;
  used_bytes_ = 0;
  for (const auto& [path, id] : durable_.files) {
    CacheInode& inode = inodes_[id];
    auto durable = durable_.inodes.find(id);
    if (durable != durable_.inodes.end()) inode.data = durable->second;
    auto bad = latent.find(id);
    if (bad != latent.end()) inode.latent = std::move(bad->second);
    used_bytes_ += inode.data.size();
  }
  ++generation_;  // every handle of the old cache is dead
  locks_.ReleaseAll();  // their holders died with the old incarnation
  read_only_ = false;   // the machine restarted: mounted read-write again
}

// --- space and inode lifetime -------------------------------------------------

absl::Status SimFileSystem::ReserveBytes(uint64_t old_size_bytes, uint64_t new_size_bytes,
                                         std::string_view what, bool* overcommitted) {
  if (new_size_bytes <= old_size_bytes) {
    ReleaseBytes(old_size_bytes - new_size_bytes);
    return absl::OkStatus();
  }
  const uint64_t grow_bytes = new_size_bytes - old_size_bytes;
  const uint64_t capacity_bytes = disk_->options_.capacity_bytes;
  if (capacity_bytes != 0 && used_bytes_ + grow_bytes > capacity_bytes) {
    if (overcommitted != nullptr && kernel().delayed_allocation) {
      // Blocks are allocated at writeback: the sync will find no space.
      *overcommitted = true;
      used_bytes_ += grow_bytes;
      return absl::OkStatus();
    }
    disk_->recorder_.Note(FaultKind::kNoSpace, node_, {"used_bytes", used_bytes_},
                          absl::StrCat("ENOSPC: ", AsAbsl(what), " needs ", grow_bytes, " bytes, ",
                                       capacity_bytes - std::min(capacity_bytes, used_bytes_),
                                       " free"));
    return io::NoSpaceError(what);
  }
  used_bytes_ += grow_bytes;
  return absl::OkStatus();
}

void SimFileSystem::ReleaseBytes(uint64_t size_bytes) {
  FAULTLINE_CHECK(used_bytes_ >= size_bytes);
  used_bytes_ -= size_bytes;
}

void SimFileSystem::UnlinkInode(uint64_t inode_id) {
  auto it = inodes_.find(inode_id);
  FAULTLINE_CHECK(it != inodes_.end() && it->second.linked);
  it->second.linked = false;
  if (!Counted(it->second)) {
    ReleaseBytes(it->second.data.size());
    MaybeFreeInode(inode_id);
  }
}

void SimFileSystem::CloseHandle(uint64_t inode_id) {
  auto it = inodes_.find(inode_id);
  FAULTLINE_CHECK(it != inodes_.end() && it->second.open_handles > 0);
  --it->second.open_handles;
  if (!Counted(it->second)) {
    ReleaseBytes(it->second.data.size());
    MaybeFreeInode(inode_id);
  }
}

void SimFileSystem::MaybeFreeInode(uint64_t inode_id) {
  // A removed, closed file still matters to a crash while any pending
  // namespace op or the durable namespace names it (the remove may be
  // undone). Otherwise nothing can ever reach it again: free it, so that
  // workloads that create and remove files run in bounded memory.
  auto it = inodes_.find(inode_id);
  if (it == inodes_.end() || Counted(it->second)) {
    unreachable_candidates_.erase(inode_id);
    return;
  }
  if (namespace_refs_.count(inode_id) > 0 || durable_.names.count(inode_id) > 0) {
    unreachable_candidates_.insert(inode_id);  // retried after each SyncDir
    return;
  }
  unreachable_candidates_.erase(inode_id);
  pending_data_ops_ -= it->second.pending.ops.size();
  inodes_.erase(it);
  durable_.inodes.erase(inode_id);
}

void SimFileSystem::LogNamespaceOp(NamespaceOp op) {
  if (op.inode != 0) ++namespace_refs_[op.inode];
  namespace_ops_.push_back(std::move(op));
  CheckPendingBound();
}

void SimFileSystem::RecountNamespaceRefs() {
  namespace_refs_.clear();
  for (const NamespaceOp& op : namespace_ops_) {
    if (op.inode != 0) ++namespace_refs_[op.inode];
  }
}

// --- io::FileSystem -----------------------------------------------------------

absl::StatusOr<std::unique_ptr<io::File>> SimFileSystem::Open(std::string_view path,
                                                              io::OpenMode mode) {
  const std::string what = absl::StrCat("open ", AsAbsl(path));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  auto file = Armed(ArmedOps::kAnyOp, what, [&] { return DoOpen(std::string(path), mode, what); });
  TraceIo("open", path, Trace::HashBytes(path),
          {"mode", static_cast<uint64_t>(mode), OpenModeValueName}, {}, file.status());
  return file;
}

absl::Status SimFileSystem::Rename(std::string_view from, std::string_view to) {
  const std::string what = absl::StrCat("rename ", AsAbsl(from), " -> ", AsAbsl(to));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  absl::Status status = Armed(ArmedOps::kAnyOp, what,
                              [&] { return DoRename(std::string(from), std::string(to), what); });
  TraceIo("rename", what.substr(7), Trace::HashBytes(what), {}, {}, status);
  return status;
}

absl::Status SimFileSystem::Remove(std::string_view path) {
  const std::string what = absl::StrCat("remove ", AsAbsl(path));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  absl::Status status =
      Armed(ArmedOps::kAnyOp, what, [&] { return DoRemove(std::string(path), what); });
  TraceIo("remove", path, Trace::HashBytes(path), {}, {}, status);
  return status;
}

absl::Status SimFileSystem::CreateDir(std::string_view path) {
  const std::string what = absl::StrCat("mkdir ", AsAbsl(path));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  absl::Status status =
      Armed(ArmedOps::kAnyOp, what, [&] { return DoCreateDir(std::string(path), what); });
  TraceIo("mkdir", path, Trace::HashBytes(path), {}, {}, status);
  return status;
}

absl::StatusOr<std::vector<std::string>> SimFileSystem::List(std::string_view dir) {
  const std::string what = absl::StrCat("list ", AsAbsl(dir));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  return Armed(ArmedOps::kAnyOp, what, [&] { return DoList(std::string(dir), what); });
}

absl::StatusOr<std::unique_ptr<io::FileLock>> SimFileSystem::LockFile(std::string_view path) {
  const std::string what = absl::StrCat("lock ", AsAbsl(path));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  const std::string key(path);
  if (files_.count(key) == 0 && dirs_.count(key) == 0) return absl::NotFoundError(what);
  return locks_.Lock(path);
}

absl::Status SimFileSystem::SyncDir(std::string_view dir) {
  const std::string what = absl::StrCat("fsync dir ", AsAbsl(dir));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  absl::Status status =
      Armed(ArmedOps::kDirSync, what, [&] { return DoSyncDir(std::string(dir), what); });
  TraceIo("fsync_dir", dir, Trace::HashBytes(dir), {}, {}, status);
  return status;
}

absl::StatusOr<bool> SimFileSystem::Exists(std::string_view path) {
  const std::string what = absl::StrCat("exists ", AsAbsl(path));
  FAULTLINE_RETURN_IF_ERROR(CheckNode(what));
  return Armed(ArmedOps::kAnyOp, what, [&]() -> absl::StatusOr<bool> {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
    const std::string key(path);
    return files_.count(key) > 0 || dirs_.count(key) > 0;
  });
}

}  // namespace faultline::sim::disk
