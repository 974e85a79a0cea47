// sim/disk/sim_file_system.cc — the simulated disk (see sim_file_system.h).
#include "sim/disk/sim_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"

namespace faultline::sim::disk {
namespace {

#define FAULTLINE_DISK_RETURN_IF_ERROR(expr)   \
  do {                                         \
    absl::Status status_internal_ = (expr);    \
    if (!status_internal_.ok()) return status_internal_; \
  } while (false)

absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

// Fibers parked on a stuck disk are tracked so Unstick can wake them; the
// guard removes its fiber even when the park throws FiberKilled, so the list
// never holds a fiber that is gone.
class StuckWaiterGuard {
 public:
  StuckWaiterGuard(std::vector<runtime::Fiber*>& waiters, runtime::Fiber* fiber)
      : waiters_(waiters), fiber_(fiber) {
    waiters_.push_back(fiber_);
  }
  ~StuckWaiterGuard() {
    auto it = std::find(waiters_.begin(), waiters_.end(), fiber_);
    if (it != waiters_.end()) waiters_.erase(it);
  }
  StuckWaiterGuard(const StuckWaiterGuard&) = delete;
  StuckWaiterGuard& operator=(const StuckWaiterGuard&) = delete;

 private:
  std::vector<runtime::Fiber*>& waiters_;
  runtime::Fiber* fiber_;
};

constexpr uint64_t kMaxStuckWakeups = 1'000'000;  // spurious wake-ups are re-checked; bounded

// Crash decisions drawn from Stream::kDisk with the plan's CrashRates. Each
// decision is folded into the trace (no text: cheap when not recording).
class RandomChoices final : public ChoiceSource {
 public:
  RandomChoices(Scheduler& scheduler, const CrashRates& rates)
      : scheduler_(scheduler), prng_(scheduler.prng(Stream::kDisk)), rates_(rates) {}

  uint32_t Choose(ChoicePoint point, uint32_t arity) override {
    FAULTLINE_CHECK(arity >= 2);
    uint32_t choice = 0;
    switch (point) {
      case ChoicePoint::kNamespaceOp:
        choice = prng_.ChancePpm(rates_.namespace_persist_ppm) ? 1 : 0;
        break;
      case ChoicePoint::kTruncate:
        choice = prng_.ChancePpm(rates_.truncate_persist_ppm) ? 1 : 0;
        break;
      case ChoicePoint::kWrite: {
        FAULTLINE_CHECK(uint64_t{rates_.write_persist_ppm} + rates_.write_torn_ppm <= 1'000'000);
        const uint64_t draw = prng_.Below(1'000'000);
        if (draw < rates_.write_persist_ppm) {
          choice = 1;
        } else if (draw < uint64_t{rates_.write_persist_ppm} + rates_.write_torn_ppm) {
          choice = 2;
        }
        break;
      }
      case ChoicePoint::kTornSector:
        if (prng_.ChancePpm(rates_.torn_sector_persist_ppm)) {
          choice = rates_.torn_sector_garbage_ppm != 0 &&
                           prng_.ChancePpm(rates_.torn_sector_garbage_ppm)
                       ? 2
                       : 1;
        }
        break;
      case ChoicePoint::kSizeWithoutData:
        if (prng_.ChancePpm(rates_.size_without_data_ppm)) {
          choice = rates_.size_garbage_ppm != 0 && prng_.ChancePpm(rates_.size_garbage_ppm) ? 2 : 1;
        }
        break;
    }
    if (choice >= arity) choice = arity - 1;
    scheduler_.Record(TraceKind::kDisk, static_cast<uint64_t>(point), choice, {});
    return choice;
  }

  void FillGarbage(absl::Span<char> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t word = prng_.NextU64();
      const size_t chunk = std::min<size_t>(8, out.size() - done);
      std::memcpy(out.data() + done, &word, chunk);
      done += chunk;
    }
  }

 private:
  Scheduler& scheduler_;
  Prng& prng_;
  const CrashRates& rates_;
};

FaultKind EioKindFor(DiskOp op) {
  switch (op) {
    case DiskOp::kRead: return FaultKind::kReadEio;
    case DiskOp::kSync: return FaultKind::kSyncEio;
    case DiskOp::kSyncDir: return FaultKind::kSyncDirEio;
    default: return FaultKind::kWriteEio;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// SimFile: one open handle.
// ---------------------------------------------------------------------------

class SimFile final : public io::File {
 public:
  SimFile(SimFileSystem* fs, uint64_t inode_id, SimFileSystem::CacheInode* inode, std::string path)
      : fs_(fs),
        inode_id_(inode_id),
        inode_(inode),
        path_(std::move(path)),
        fs_exists_(fs->exists_),
        incarnation_(fs->incarnation_),
        generation_(fs->generation_),
        seen_error_seq_(inode->error_seq) {}
  ~SimFile() override { (void)Close(); }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("read"));
    auto decision = fs_->BeginOp(DiskOp::kRead, path_);
    if (!decision.ok()) return decision.status();
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("read"));
    if (decision->eio) return io::IoError(absl::StrCat("read ", path_));
    const uint64_t size_bytes = inode_->data.size();
    if (offset >= size_bytes || out.empty()) return size_t{0};
    const uint64_t length_bytes = std::min<uint64_t>(out.size(), size_bytes - offset);
    if (!inode_->bad_sectors.empty()) {
      const uint64_t unit_bytes = fs_->disk_->options_.atomic_unit_bytes;
      auto bad = inode_->bad_sectors.lower_bound(offset / unit_bytes);
      if (bad != inode_->bad_sectors.end() && *bad <= (offset + length_bytes - 1) / unit_bytes) {
        fs_->disk_->NoteFault(FaultKind::kLatentSectorRead, fs_->node_, *bad,
                              absl::StrCat("latent sector error reading ", path_));
        return io::IoError(absl::StrCat("read ", path_));
      }
    }
    std::memcpy(out.data(), inode_->data.data() + offset, length_bytes);
    return static_cast<size_t>(length_bytes);
  }

  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("write"));
    return Write(offset, /*append=*/false, data);
  }

  absl::Status Append(absl::Span<const char> data) override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("append"));
    return Write(0, /*append=*/true, data);
  }

  absl::Status Sync() override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("fdatasync"));
    auto decision = fs_->BeginOp(DiskOp::kSync, path_);
    if (!decision.ok()) return decision.status();
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("fdatasync"));
    SimFileSystem::CacheInode& inode = *inode_;
    if (decision->eio) {
      // fsyncgate: the dirty pages are marked clean without reaching the
      // durable image; nothing will write them again.
      fs_->pending_data_ops_ -= inode.pending.ops.size();
      inode.pending.Clear();
      ++inode.error_seq;
      seen_error_seq_ = inode.error_seq;
      if (fs_->disk_->options_.fsync_profile == FsyncFailureProfile::kBtrfs) {
        auto durable = fs_->durable_.inodes.find(inode_id_);
        std::string reverted = durable == fs_->durable_.inodes.end() ? std::string()
                                                                     : durable->second;
        fs_->ReleaseBytes(inode.data.size());
        fs_->used_bytes_ += reverted.size();  // a revert is never refused for space
        inode.data = std::move(reverted);
      }
      return io::IoError(absl::StrCat("fdatasync ", path_));
    }
    if (!inode.pending.empty()) {
      ApplyAllDataOps(fs_->durable_.inodes[inode_id_], inode.pending);
      fs_->pending_data_ops_ -= inode.pending.ops.size();
      inode.pending.Clear();
    }
    if (inode.error_seq != seen_error_seq_) {
      // errseq: a failure this handle has not been told about yet.
      seen_error_seq_ = inode.error_seq;
      fs_->disk_->NoteFault(FaultKind::kErrseqReport, fs_->node_, inode_id_,
                            absl::StrCat("fdatasync reports an earlier writeback error on ", path_));
      return io::IoError(absl::StrCat("fdatasync ", path_, " (earlier writeback error)"));
    }
    if (decision->crash_after) return fs_->CrashFromOp(absl::StrCat("fdatasync ", path_));
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size_bytes) override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("truncate"));
    auto decision = fs_->BeginOp(DiskOp::kTruncate, path_);
    if (!decision.ok()) return decision.status();
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("truncate"));
    if (decision->eio) return io::IoError(absl::StrCat("truncate ", path_));
    if (decision->no_space) return io::NoSpaceError(absl::StrCat("truncate ", path_));
    FAULTLINE_DISK_RETURN_IF_ERROR(
        fs_->ReserveBytes(inode_->data.size(), size_bytes, absl::StrCat("truncate ", path_)));
    inode_->data.resize(size_bytes, '\0');
    inode_->pending.ops.push_back(DataOp{.kind = DataOp::Kind::kTruncate, .offset = size_bytes});
    ++fs_->pending_data_ops_;
    fs_->CheckPendingBound();
    if (decision->crash_after) return fs_->CrashFromOp(absl::StrCat("truncate ", path_));
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() override {
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("size"));
    return static_cast<uint64_t>(inode_->data.size());
  }

  absl::Status Close() override {
    if (closed_) return absl::OkStatus();
    closed_ = true;
    if (Live()) fs_->CloseHandle(inode_id_);
    return absl::OkStatus();
  }

 private:
  bool Live() const {
    if (!*fs_exists_) return false;
    Scheduler& scheduler = fs_->disk_->scheduler_;
    return scheduler.IsAlive(fs_->node_) && scheduler.Incarnation(fs_->node_) == incarnation_ &&
           fs_->generation_ == generation_;
  }

  absl::Status Check(std::string_view what) const {
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat(AsAbsl(what), " ", path_, ": the file is closed"));
    }
    if (!*fs_exists_) {
      return absl::FailedPreconditionError(
          absl::StrCat(AsAbsl(what), " ", path_, ": the SimDisk was destroyed"));
    }
    if (!Live()) return io::NodeDeadError(absl::StrCat(AsAbsl(what), " ", path_));
    return absl::OkStatus();
  }

  absl::Status Write(uint64_t offset, bool append, absl::Span<const char> data) {
    // Like pwrite(2) of zero bytes: nothing changes, not even the size, and
    // no device operation happens (so none is counted or faulted).
    if (data.empty()) return absl::OkStatus();
    auto decision = fs_->BeginOp(DiskOp::kWrite, path_);
    if (!decision.ok()) return decision.status();
    FAULTLINE_DISK_RETURN_IF_ERROR(Check("write"));
    if (decision->eio) return io::IoError(absl::StrCat("write ", path_));
    if (decision->no_space) return io::NoSpaceError(absl::StrCat("write ", path_));
    SimFileSystem::CacheInode& inode = *inode_;
    if (append) offset = inode.data.size();
    const uint64_t end_bytes = offset + data.size();
    const uint64_t old_size_bytes = inode.data.size();
    if (end_bytes > old_size_bytes) {
      FAULTLINE_DISK_RETURN_IF_ERROR(
          fs_->ReserveBytes(old_size_bytes, end_bytes, absl::StrCat("write ", path_)));
      inode.data.resize(end_bytes, '\0');
    }
    if (!data.empty()) std::memcpy(inode.data.data() + offset, data.data(), data.size());

    const uint64_t unit_bytes = fs_->disk_->options_.atomic_unit_bytes;
    uint64_t durable_offset = offset;
    if (decision->misdirect) {
      // The cache is right; the device puts the bytes at another sector.
      const uint64_t sectors = std::max<uint64_t>(1, (inode.data.size() + unit_bytes - 1) / unit_bytes);
      uint64_t sector = fs_->disk_->scheduler_.prng(Stream::kDisk).Below(sectors);
      if (sector == offset / unit_bytes) sector = sectors;
      durable_offset = sector * unit_bytes + offset % unit_bytes;
      fs_->disk_->NoteFault(FaultKind::kMisdirectedWrite, fs_->node_, durable_offset,
                            absl::StrCat("write ", path_, " at ", offset, " lands at ",
                                         durable_offset));
    }
    inode.pending.ops.push_back(DataOp{.kind = DataOp::Kind::kWrite,
                                       .tear_on_crash = decision->tear_on_crash,
                                       .offset = offset,
                                       .durable_offset = durable_offset,
                                       .length_bytes = data.size(),
                                       .arena_offset = inode.pending.arena.size()});
    inode.pending.arena.append(data.data(), data.size());
    ++fs_->pending_data_ops_;
    fs_->CheckPendingBound();
    fs_->last_write_inode_ = inode_id_;
    if (!inode.bad_sectors.empty() && !data.empty()) {
      // Rewriting a whole sector remaps it: the latent error is gone.
      const uint64_t first_full = (offset + unit_bytes - 1) / unit_bytes;
      const uint64_t end_full = end_bytes / unit_bytes;
      for (uint64_t sector = first_full; sector < end_full; ++sector) inode.bad_sectors.erase(sector);
    }
    if (decision->crash_after) return fs_->CrashFromOp(absl::StrCat("write ", path_));
    return absl::OkStatus();
  }

  SimFileSystem* const fs_;
  const uint64_t inode_id_;
  SimFileSystem::CacheInode* const inode_;
  const std::string path_;
  const std::shared_ptr<bool> fs_exists_;
  const uint64_t incarnation_;
  const uint64_t generation_;
  uint64_t seen_error_seq_;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------
// SimFileSystem
// ---------------------------------------------------------------------------

SimFileSystem::SimFileSystem(SimDisk* disk, NodeId node)
    : disk_(disk), node_(node), incarnation_(disk->scheduler_.Incarnation(node)) {}

SimFileSystem::~SimFileSystem() { *exists_ = false; }

size_t SimFileSystem::pending_op_count() const {
  return namespace_ops_.size() + pending_data_ops_;
}

void SimFileSystem::CheckPendingBound() const {
  FAULTLINE_CHECK_MSG(pending_op_count() <= disk_->options_.max_pending_ops_per_node,
                      "too many pending (never synced) disk operations on one node");
}

absl::Status SimFileSystem::CheckNode(std::string_view what) {
  Scheduler& scheduler = disk_->scheduler_;
  if (!scheduler.IsAlive(node_)) return io::NodeDeadError(what);
  const uint64_t current = scheduler.Incarnation(node_);
  if (current != incarnation_) {
    if (resolved_incarnation_ != incarnation_) {
      // The harness restarted the node without SimDisk::Crash: resolve now.
      scheduler.Record(TraceKind::kDisk, node_, incarnation_, "crash resolved on restart");
      ResolveCrash(CrashOptions{}, nullptr);
    }
    incarnation_ = current;
  }
  return absl::OkStatus();
}

void SimFileSystem::Sleep(int64_t latency_ns) {
  Scheduler& scheduler = disk_->scheduler_;
  FAULTLINE_CHECK_MSG(scheduler.CurrentFiber() != nullptr,
                      "disk latency needs a fiber to park (call from a fiber)");
  disk_->stats_.Add(FaultKind::kLatency);
  scheduler.SleepFor(latency_ns);
}

void SimFileSystem::WaitWhileStuck() {
  Scheduler& scheduler = disk_->scheduler_;
  for (uint64_t wakeups = 0; scheduler.NowNs() < stuck_until_ns_; ++wakeups) {
    FAULTLINE_CHECK_MSG(wakeups < kMaxStuckWakeups, "too many wake-ups on a stuck disk");
    runtime::Fiber* fiber = scheduler.CurrentFiber();
    FAULTLINE_CHECK_MSG(fiber != nullptr, "a stuck disk needs a fiber to park (call from a fiber)");
    StuckWaiterGuard guard(stuck_waiters_, fiber);
    scheduler.Park(stuck_until_ns_, "stuck disk");
  }
}

absl::StatusOr<SimFileSystem::Decision> SimFileSystem::BeginOp(DiskOp op, std::string_view what) {
  Scheduler& scheduler = disk_->scheduler_;
  const FaultPlan& plan = disk_->plan_;
  const uint64_t nth = ++op_counts_[static_cast<size_t>(op)];
  Decision decision;
  bool crash_before = false;
  int64_t stick_ns = -1;

  FAULTLINE_CHECK(plan.rules.size() <= FaultPlan::kMaxRules);
  for (const FaultRule& rule : plan.rules) {
    if (rule.node != node_ || rule.op != op || rule.nth != nth) continue;
    switch (rule.action) {
      case FaultAction::kEio: decision.eio = true; break;
      case FaultAction::kNoSpace: decision.no_space = true; break;
      case FaultAction::kCrashBefore: crash_before = true; break;
      case FaultAction::kCrashAfter: decision.crash_after = true; break;
      case FaultAction::kTearOnCrash: decision.tear_on_crash = true; break;
      case FaultAction::kMisdirect: decision.misdirect = true; break;
      case FaultAction::kStick: stick_ns = std::max<int64_t>(stick_ns, rule.stuck_for_ns); break;
    }
  }
  const FaultRates& rates = plan.rates;
  Prng& prng = scheduler.prng(Stream::kDisk);
  if (rates.stuck_ppm != 0 && prng.ChancePpm(rates.stuck_ppm)) {
    stick_ns = std::max(stick_ns, rates.stuck_ns);
  }
  if (stick_ns >= 0) {
    stuck_until_ns_ = std::max(stuck_until_ns_, runtime::DeadlineAfter(scheduler.NowNs(), stick_ns));
    disk_->NoteFault(FaultKind::kStuck, node_, static_cast<uint64_t>(stick_ns),
                     absl::StrCat("disk stuck at ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
  if (stuck_until_ns_ > scheduler.NowNs()) WaitWhileStuck();

  const LatencyModel* latency = nullptr;
  switch (op) {
    case DiskOp::kRead: latency = &plan.latency.read; break;
    case DiskOp::kWrite:
    case DiskOp::kTruncate: latency = &plan.latency.write; break;
    case DiskOp::kSync:
    case DiskOp::kSyncDir: latency = &plan.latency.sync; break;
    default: latency = &plan.latency.metadata; break;
  }
  if (latency->kind != LatencyModel::Kind::kNone) {
    const int64_t latency_ns = latency->Draw(prng);
    if (latency_ns > 0) Sleep(latency_ns);
  }
  // A harness fiber (another node) may have waited across this node's crash.
  if (!scheduler.IsAlive(node_) || scheduler.Incarnation(node_) != incarnation_) {
    return io::NodeDeadError(what);
  }
  if (crash_before) {
    FAULTLINE_DISK_RETURN_IF_ERROR(CrashFromOp(what));
  }

  uint32_t eio_ppm = 0;
  switch (op) {
    case DiskOp::kRead: eio_ppm = rates.read_eio_ppm; break;
    case DiskOp::kWrite: eio_ppm = rates.write_eio_ppm; break;
    case DiskOp::kSync: eio_ppm = rates.sync_eio_ppm; break;
    case DiskOp::kSyncDir: eio_ppm = rates.sync_dir_eio_ppm; break;
    default: break;
  }
  if (eio_ppm != 0 && prng.ChancePpm(eio_ppm)) decision.eio = true;
  if (op == DiskOp::kWrite && rates.misdirect_write_ppm != 0 &&
      prng.ChancePpm(rates.misdirect_write_ppm)) {
    decision.misdirect = true;
  }
  if (decision.eio) {
    disk_->NoteFault(EioKindFor(op), node_, nth,
                     absl::StrCat("EIO on ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
  if (decision.no_space) {
    disk_->NoteFault(FaultKind::kNoSpace, node_, nth,
                     absl::StrCat("ENOSPC on ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
  return decision;
}

absl::Status SimFileSystem::CrashFromOp(std::string_view what) {
  disk_->NoteFault(FaultKind::kInjectedCrash, node_, incarnation_,
                   absl::StrCat("fault plan crashes the node at ", AsAbsl(what)));
  // Resolve while the cache is intact; then kill the node (throws
  // FiberKilled into the caller when it is one of the node's fibers).
  ResolveCrash(CrashOptions{}, nullptr);
  disk_->scheduler_.Crash(node_, "disk fault plan");
  return io::NodeDeadError(what);
}

CrashInput SimFileSystem::MakeCrashInput() const {
  CrashInput input;
  input.durable = &durable_;
  input.namespace_ops = &namespace_ops_;
  input.atomic_unit_bytes = disk_->options_.atomic_unit_bytes;
  for (const auto& [id, inode] : inodes_) {
    if (!inode.pending.empty()) input.data.emplace_back(id, &inode.pending);
  }
  return input;
}

void SimFileSystem::ResolveCrash(const CrashOptions& options, const DiskImage* chosen) {
  Scheduler& scheduler = disk_->scheduler_;
  if (chosen != nullptr) {
    durable_ = DurableState::FromImage(*chosen, next_inode_);
    next_inode_ += chosen->files.size();
    scheduler.Record(TraceKind::kDisk, node_, chosen->files.size(), "crash state installed");
  } else {
    if (options.tear_last_write && last_write_inode_ != 0) {
      auto it = inodes_.find(last_write_inode_);
      if (it != inodes_.end()) {
        auto& ops = it->second.pending.ops;
        for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
          if (op->kind == DataOp::Kind::kWrite) {
            op->tear_on_crash = true;
            break;
          }
        }
      }
    }
    scheduler.Record(TraceKind::kDisk, node_, pending_op_count(), "crash resolution");
    RandomChoices choices(scheduler, disk_->plan_.crash);
    CrashSummary summary;
    durable_ = sim::disk::ResolveCrash(MakeCrashInput(), choices, &summary);
    const std::pair<FaultKind, uint64_t> outcomes[] = {
        {FaultKind::kTornWrite, summary.writes_torn},
        {FaultKind::kDroppedWrite, summary.writes_dropped},
        {FaultKind::kGarbageSector, summary.garbage_sectors},
        {FaultKind::kSizeWithoutData, summary.sizes_without_data},
        {FaultKind::kDroppedTruncate, summary.truncates_dropped},
        {FaultKind::kDroppedNamespaceOp, summary.namespace_dropped},
    };
    for (const auto& [kind, count] : outcomes) {
      if (count == 0) continue;
      disk_->stats_.Add(kind, count - 1);  // NoteFault adds the last one
      disk_->NoteFault(kind, node_, count, absl::StrCat("crash: ", AsAbsl(FaultKindName(kind)), " x", count));
    }
    const uint32_t flip_ppm = disk_->plan_.rates.bit_flip_per_file_ppm;
    if (flip_ppm != 0) {
      Prng& prng = scheduler.prng(Stream::kDisk);
      for (const auto& [path, inode] : durable_.files) {  // by path: deterministic
        std::string& bytes = durable_.inodes[inode];
        if (bytes.empty() || !prng.ChancePpm(flip_ppm)) continue;
        const uint64_t bit = prng.Below(bytes.size() * 8);
        bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1u << (bit % 8)));
        disk_->NoteFault(FaultKind::kBitFlip, node_, bit, absl::StrCat("bit flip in ", path));
      }
    }
  }
  resolved_incarnation_ = incarnation_;
  ResetCacheFromDurable();
}

void SimFileSystem::ResetCacheFromDurable() {
  // Latent sector errors are physical: they survive a crash (inode ids are
  // kept across a crash; an installed image has fresh ids and none).
  std::map<uint64_t, std::set<uint64_t>> bad_sectors;
  for (auto& [id, inode] : inodes_) {
    if (!inode.bad_sectors.empty()) bad_sectors.emplace(id, std::move(inode.bad_sectors));
  }
  inodes_.clear();
  unreachable_candidates_.clear();
  files_ = durable_.files;
  dirs_ = durable_.dirs;
  namespace_ops_.clear();
  pending_data_ops_ = 0;
  last_write_inode_ = 0;
  used_bytes_ = 0;
  for (const auto& [path, id] : durable_.files) {
    CacheInode& inode = inodes_[id];
    auto durable = durable_.inodes.find(id);
    if (durable != durable_.inodes.end()) inode.data = durable->second;
    auto bad = bad_sectors.find(id);
    if (bad != bad_sectors.end()) inode.bad_sectors = std::move(bad->second);
    used_bytes_ += inode.data.size();
  }
  ++generation_;  // every handle of the old cache is dead
  locks_.ReleaseAll();  // their holders died with the old incarnation
}

absl::Status SimFileSystem::ReserveBytes(uint64_t old_size_bytes, uint64_t new_size_bytes,
                                         std::string_view what) {
  if (new_size_bytes <= old_size_bytes) {
    ReleaseBytes(old_size_bytes - new_size_bytes);
    return absl::OkStatus();
  }
  const uint64_t grow_bytes = new_size_bytes - old_size_bytes;
  const uint64_t capacity_bytes = disk_->options_.capacity_bytes;
  if (capacity_bytes != 0 && used_bytes_ + grow_bytes > capacity_bytes) {
    disk_->NoteFault(FaultKind::kNoSpace, node_, used_bytes_,
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
  const bool named = std::any_of(namespace_ops_.begin(), namespace_ops_.end(),
                                 [&](const NamespaceOp& op) { return op.inode == inode_id; }) ||
                     std::any_of(durable_.files.begin(), durable_.files.end(),
                                 [&](const auto& entry) { return entry.second == inode_id; });
  if (named) {
    unreachable_candidates_.insert(inode_id);  // retried after each SyncDir
    return;
  }
  unreachable_candidates_.erase(inode_id);
  pending_data_ops_ -= it->second.pending.ops.size();
  inodes_.erase(it);
  durable_.inodes.erase(inode_id);
}

absl::StatusOr<std::unique_ptr<io::File>> SimFileSystem::Open(std::string_view path,
                                                              io::OpenMode mode) {
  const std::string what = absl::StrCat("open ", AsAbsl(path));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(path));
  auto decision = BeginOp(DiskOp::kOpen, what);
  if (!decision.ok()) return decision.status();
  const std::string parent(io::ParentDir(path));
  if (!parent.empty() && dirs_.count(parent) == 0) {
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  std::string key(path);
  if (dirs_.count(key) > 0) {
    return io::ErrnoToStatus(EISDIR, what);
  }
  auto found = files_.find(key);
  uint64_t inode_id;
  if (found != files_.end()) {
    if (mode == io::OpenMode::kCreateExclusive) {
      return absl::AlreadyExistsError(absl::StrCat(what, ": exists"));
    }
    inode_id = found->second;
    if (mode == io::OpenMode::kCreateTruncate) {
      CacheInode& inode = inodes_.at(inode_id);
      ReleaseBytes(inode.data.size());
      inode.data.clear();
      inode.pending.ops.push_back(DataOp{.kind = DataOp::Kind::kTruncate, .offset = 0});
      ++pending_data_ops_;
    }
  } else {
    if (mode == io::OpenMode::kReadWrite) {
      return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    }
    if (decision->eio) return io::IoError(what);
    if (decision->no_space) return io::NoSpaceError(what);
    inode_id = next_inode_++;
    inodes_.emplace(inode_id, CacheInode{});
    files_.emplace(key, inode_id);
    namespace_ops_.push_back(
        NamespaceOp{.kind = NamespaceOp::Kind::kCreate, .path = key, .inode = inode_id});
  }
  CheckPendingBound();
  CacheInode& inode = inodes_.at(inode_id);
  ++inode.open_handles;
  auto file = std::make_unique<SimFile>(this, inode_id, &inode, std::move(key));
  if (decision->crash_after) return CrashFromOp(what);
  return std::unique_ptr<io::File>(std::move(file));
}

absl::Status SimFileSystem::Rename(std::string_view from, std::string_view to) {
  const std::string what = absl::StrCat("rename ", AsAbsl(from), " -> ", AsAbsl(to));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(from));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(to));
  auto decision = BeginOp(DiskOp::kRename, what);
  if (!decision.ok()) return decision.status();
  const std::string from_key(from);
  const std::string to_key(to);
  if (dirs_.count(from_key) > 0 || dirs_.count(to_key) > 0) {
    return io::ErrnoToStatus(EISDIR, absl::StrCat(what, " (directories cannot be renamed here)"));
  }
  auto source = files_.find(from_key);
  if (source == files_.end()) return absl::NotFoundError(absl::StrCat(what, ": no such file"));
  const std::string to_parent(io::ParentDir(to));
  if (!to_parent.empty() && dirs_.count(to_parent) == 0) {
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  if (decision->eio) return io::IoError(what);
  if (from_key == to_key) return absl::OkStatus();
  const uint64_t inode_id = source->second;
  files_.erase(source);
  auto target = files_.find(to_key);
  if (target != files_.end()) {
    UnlinkInode(target->second);
    target->second = inode_id;
  } else {
    files_.emplace(to_key, inode_id);
  }
  namespace_ops_.push_back(NamespaceOp{
      .kind = NamespaceOp::Kind::kRename, .path = from_key, .to_path = to_key, .inode = inode_id});
  CheckPendingBound();
  if (decision->crash_after) return CrashFromOp(what);
  return absl::OkStatus();
}

absl::Status SimFileSystem::Remove(std::string_view path) {
  const std::string what = absl::StrCat("remove ", AsAbsl(path));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(path));
  auto decision = BeginOp(DiskOp::kRemove, what);
  if (!decision.ok()) return decision.status();
  const std::string key(path);
  if (dirs_.count(key) > 0) {
    const std::string prefix = key + "/";
    auto child_file = files_.lower_bound(prefix);
    auto child_dir = dirs_.lower_bound(prefix);
    if ((child_file != files_.end() && child_file->first.starts_with(prefix)) ||
        (child_dir != dirs_.end() && child_dir->starts_with(prefix))) {
      return io::ErrnoToStatus(ENOTEMPTY, what);
    }
    if (decision->eio) return io::IoError(what);
    dirs_.erase(key);
    namespace_ops_.push_back(NamespaceOp{.kind = NamespaceOp::Kind::kRemove, .path = key});
  } else {
    auto found = files_.find(key);
    if (found == files_.end()) return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    if (decision->eio) return io::IoError(what);
    const uint64_t inode_id = found->second;
    files_.erase(found);
    UnlinkInode(inode_id);
    namespace_ops_.push_back(
        NamespaceOp{.kind = NamespaceOp::Kind::kRemove, .path = key, .inode = inode_id});
  }
  CheckPendingBound();
  if (decision->crash_after) return CrashFromOp(what);
  return absl::OkStatus();
}

absl::Status SimFileSystem::CreateDir(std::string_view path) {
  const std::string what = absl::StrCat("mkdir ", AsAbsl(path));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(path));
  auto decision = BeginOp(DiskOp::kCreateDir, what);
  if (!decision.ok()) return decision.status();
  const std::string key(path);
  const std::string parent(io::ParentDir(path));
  if (!parent.empty() && dirs_.count(parent) == 0) {
    return absl::NotFoundError(absl::StrCat(what, ": no such parent directory"));
  }
  if (dirs_.count(key) > 0) return absl::OkStatus();
  if (files_.count(key) > 0) return absl::AlreadyExistsError(absl::StrCat(what, ": a file exists"));
  if (decision->eio) return io::IoError(what);
  if (decision->no_space) return io::NoSpaceError(what);
  dirs_.insert(key);
  namespace_ops_.push_back(NamespaceOp{.kind = NamespaceOp::Kind::kMkdir, .path = key});
  CheckPendingBound();
  if (decision->crash_after) return CrashFromOp(what);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimFileSystem::List(std::string_view dir) {
  const std::string what = absl::StrCat("list ", AsAbsl(dir));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(dir, /*allow_root=*/true));
  const std::string key(dir);
  if (!key.empty() && dirs_.count(key) == 0) {
    if (files_.count(key) > 0) return io::ErrnoToStatus(ENOTDIR, what);
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  const std::string prefix = key.empty() ? std::string() : key + "/";
  std::vector<std::string> names;
  auto collect = [&](const std::string& path) {
    const std::string_view rest = std::string_view(path).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  };
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix); ++it) {
    collect(it->first);
  }
  for (auto it = dirs_.lower_bound(prefix); it != dirs_.end() && it->starts_with(prefix); ++it) {
    collect(*it);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status SimFileSystem::SyncDir(std::string_view dir) {
  const std::string what = absl::StrCat("fsync dir ", AsAbsl(dir));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(dir, /*allow_root=*/true));
  const std::string key(dir);
  if (!key.empty() && dirs_.count(key) == 0) {
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  auto decision = BeginOp(DiskOp::kSyncDir, what);
  if (!decision.ok()) return decision.status();
  // A failed directory sync leaves its ops pending: a crash decides them.
  if (decision->eio) return io::IoError(what);
  size_t kept = 0;
  for (size_t i = 0; i < namespace_ops_.size(); ++i) {
    if (NamespaceOpInDir(namespace_ops_[i], key)) {
      ApplyNamespaceOp(durable_, namespace_ops_[i]);
    } else {
      if (kept != i) namespace_ops_[kept] = std::move(namespace_ops_[i]);
      ++kept;
    }
  }
  namespace_ops_.resize(kept);
  // A removed file whose removal is now durable may be freed; so may a file
  // a rename replaced (its inode lost its durable name).
  const std::set<uint64_t> candidates = unreachable_candidates_;
  for (uint64_t inode_id : candidates) MaybeFreeInode(inode_id);
  if (decision->crash_after) return CrashFromOp(what);
  return absl::OkStatus();
}

absl::StatusOr<bool> SimFileSystem::Exists(std::string_view path) {
  const std::string what = absl::StrCat("exists ", AsAbsl(path));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(path));
  const std::string key(path);
  return files_.count(key) > 0 || dirs_.count(key) > 0;
}

absl::StatusOr<std::unique_ptr<io::FileLock>> SimFileSystem::LockFile(std::string_view path) {
  const std::string what = absl::StrCat("lock ", AsAbsl(path));
  FAULTLINE_DISK_RETURN_IF_ERROR(CheckNode(what));
  FAULTLINE_DISK_RETURN_IF_ERROR(io::ValidatePath(path));
  const std::string key(path);
  if (files_.count(key) == 0 && dirs_.count(key) == 0) return absl::NotFoundError(what);
  return locks_.Lock(path);
}

// ---------------------------------------------------------------------------
// SimDisk
// ---------------------------------------------------------------------------

SimDisk::SimDisk(Scheduler& scheduler, DiskOptions options, FaultPlan plan)
    : scheduler_(scheduler), options_(options), plan_(std::move(plan)) {
  FAULTLINE_CHECK_MSG(options_.atomic_unit_bytes == 512 || options_.atomic_unit_bytes == 4096,
                      "atomic_unit_bytes must be 512 or 4096");
}

SimDisk::~SimDisk() = default;

SimFileSystem& SimDisk::ForNode(NodeId node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) {
    it = nodes_.emplace(node, std::make_unique<SimFileSystem>(this, node)).first;
  }
  return *it->second;
}

void SimDisk::NoteFault(FaultKind kind, NodeId node, uint64_t detail, std::string_view text) {
  stats_.Add(kind);
  scheduler_.Record(TraceKind::kFault, static_cast<uint64_t>(kind) | (uint64_t{node} << 32), detail,
                    text);
}

void SimDisk::Crash(NodeId node, const CrashOptions& options) {
  FAULTLINE_CHECK_MSG(!scheduler_.IsAlive(node), "SimDisk::Crash: call Scheduler::Crash first");
  SimFileSystem& fs = ForNode(node);
  const uint64_t current = scheduler_.Incarnation(node);
  if (fs.incarnation_ != current) {
    if (fs.resolved_incarnation_ != fs.incarnation_) fs.ResolveCrash(CrashOptions{}, nullptr);
    fs.incarnation_ = current;
  }
  if (fs.resolved_incarnation_ == current) return;  // a rule already resolved it
  fs.ResolveCrash(options, nullptr);
}

void SimDisk::CrashInto(NodeId node, const DiskImage& state) {
  FAULTLINE_CHECK_MSG(!scheduler_.IsAlive(node), "SimDisk::CrashInto: call Scheduler::Crash first");
  SimFileSystem& fs = ForNode(node);
  fs.incarnation_ = scheduler_.Incarnation(node);
  fs.ResolveCrash(CrashOptions{}, &state);
}

void SimDisk::LoadImage(NodeId node, const DiskImage& image) {
  SimFileSystem& fs = ForNode(node);
  fs.durable_ = DurableState::FromImage(image, fs.next_inode_);
  fs.next_inode_ += image.files.size();
  fs.ResetCacheFromDurable();
}

DiskImage SimDisk::DurableImage(NodeId node) { return ForNode(node).durable_.ToImage(); }

DiskImage SimDisk::CacheImage(NodeId node) {
  SimFileSystem& fs = ForNode(node);
  DiskImage image;
  image.dirs = fs.dirs_;
  for (const auto& [path, id] : fs.files_) image.files.emplace(path, fs.inodes_.at(id).data);
  return image;
}

void SimDisk::Stick(NodeId node, int64_t until_ns) {
  SimFileSystem& fs = ForNode(node);
  fs.stuck_until_ns_ = until_ns;
  NoteFault(FaultKind::kStuck, node, static_cast<uint64_t>(until_ns), "disk stuck");
  // Waiters re-check the new deadline.
  const std::vector<runtime::Fiber*> waiters = fs.stuck_waiters_;
  for (runtime::Fiber* fiber : waiters) scheduler_.Unpark(fiber);
}

void SimDisk::Unstick(NodeId node) {
  SimFileSystem& fs = ForNode(node);
  fs.stuck_until_ns_ = 0;
  scheduler_.Record(TraceKind::kDisk, node, 0, "disk unstuck");
  const std::vector<runtime::Fiber*> waiters = fs.stuck_waiters_;
  for (runtime::Fiber* fiber : waiters) scheduler_.Unpark(fiber);
}

absl::Status SimDisk::AddLatentSectorError(NodeId node, std::string_view path,
                                           uint64_t sector_index) {
  SimFileSystem& fs = ForNode(node);
  auto it = fs.files_.find(std::string(path));
  if (it == fs.files_.end()) return absl::NotFoundError(absl::StrCat("no file ", AsAbsl(path)));
  fs.inodes_.at(it->second).bad_sectors.insert(sector_index);
  scheduler_.Record(TraceKind::kDisk, node, sector_index, "latent sector error planted");
  return absl::OkStatus();
}

absl::Status SimDisk::FlipDurableBit(NodeId node, std::string_view path, uint64_t bit_offset) {
  SimFileSystem& fs = ForNode(node);
  auto it = fs.durable_.files.find(std::string(path));
  if (it == fs.durable_.files.end()) {
    return absl::NotFoundError(absl::StrCat("no durable file ", AsAbsl(path)));
  }
  std::string& bytes = fs.durable_.inodes[it->second];
  if (bit_offset >= uint64_t{bytes.size()} * 8) {
    return absl::OutOfRangeError(absl::StrCat("bit ", bit_offset, " past the end of ", AsAbsl(path)));
  }
  const char mask = static_cast<char>(1u << (bit_offset % 8));
  bytes[bit_offset / 8] = static_cast<char>(bytes[bit_offset / 8] ^ mask);
  auto cached = fs.inodes_.find(it->second);
  if (cached != fs.inodes_.end() && cached->second.pending.empty() &&
      cached->second.data.size() > bit_offset / 8) {
    // A clean page is re-read from the device sooner or later: show it now.
    cached->second.data[bit_offset / 8] = static_cast<char>(cached->second.data[bit_offset / 8] ^ mask);
  }
  NoteFault(FaultKind::kBitFlip, node, bit_offset, absl::StrCat("bit flip in ", AsAbsl(path)));
  return absl::OkStatus();
}

}  // namespace faultline::sim::disk
